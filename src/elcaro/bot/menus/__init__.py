"""One module per menu: each registers its buttons, confirmations, typed input and main-menu section."""
