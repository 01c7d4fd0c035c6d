"""One module per message format of shared/SIGNALS.md.

``specific`` lists the self-announcing formats and binds them as each other's rivals; importing it
here makes that hold however a format module is first imported.
"""

from elcaro.signals.formats import specific as specific
