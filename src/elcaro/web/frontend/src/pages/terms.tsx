// The terms and risk disclaimer: accepted once, before anything else (the platform refuses trades until then).

import { api } from "../api";
import { t } from "../i18n";
import type { Profile } from "../types";
import { ActionButton, Card, Page } from "../ui";

export function Terms({ onAccepted }: { onAccepted: (profile: Profile) => void }) {
  return (
    <Page title={t("terms.title")}>
      <Card>
        <p>{t("terms.risk")}</p>
        <p>{t("terms.keys")}</p>
        <ActionButton onAction={async () => onAccepted(await api<Profile>("/me/terms", { method: "POST" }))}>
          {t("terms.accept")}
        </ActionButton>
      </Card>
    </Page>
  );
}
