// Pages live under /app/… (the web app serves index.html there); links change the page without a reload.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

export const BASE = "/app";
const listeners = new Set<() => void>();

export function currentPath(): string {
  const path = window.location.pathname;
  if (path === BASE || path === `${BASE}/`) return "/";
  return path.startsWith(`${BASE}/`) ? path.slice(BASE.length) : "/";
}

export function navigate(path: string, { replace = false } = {}): void {
  const url = BASE + path;
  if (url === window.location.pathname + window.location.search) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  listeners.forEach((listener) => listener());
}

window.addEventListener("popstate", () => listeners.forEach((listener) => listener()));

/** The current page path (``/positions``), re-rendering on every navigation. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return path;
}

interface LinkProps {
  to: string;
  children: ComponentChildren;
  class?: string;
  label?: string; // the accessible name, when the text alone does not say where the link goes
}

export function Link({ to, children, class: className, label }: LinkProps) {
  const active = currentPath() === to;
  return (
    <a
      class={className}
      href={BASE + to}
      aria-label={label}
      aria-current={active ? "page" : undefined}
      onClick={(event) => {
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
