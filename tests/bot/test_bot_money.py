"""Subscription and wallet through the bot: the trial, buying a licence with ELC (once per confirmation), paying
with Telegram Stars (invoice → pre-checkout → successful payment), a promo code, an admin's grant, ELC transfers
with the fee shown first, and the referral link."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from bot_world import ADMIN_ID, bot_world

from elcaro.models import LicenceTier

pytestmark = pytest.mark.db

HANNA, IVAN = 8008, 8009
ELC = 10**8  # minor units per ELC


async def test_subscription_and_wallet(tmp_path: Path, empty_database_url: str) -> None:
    async with bot_world(tmp_path, empty_database_url, stars_per_elc=Decimal(2)) as world:
        platform = world.runtime.platform
        admin = await world.admin()
        hanna = world.api.user(HANNA, "Hanna", username="hanna")
        await hanna.send(f"/start {(await world.user(ADMIN_ID)).referral_code}")
        terms = await hanna.next("Terms of use")
        await admin.press(await admin.next("New user: @hanna"), "Approve")
        await hanna.next("Your account has been approved")  # before the terms: two chats' updates do not wait
        await hanna.press(terms, "I accept")
        await hanna.next("Choose what to do")
        ivan = await world.trader(IVAN, "Ivan", language="ru")
        user = await world.user(HANNA)
        await platform.ledger.credit_purchase(user.id, 100 * ELC, key="test-credit", reference="test")

        # The trial, once.
        await hanna.send("⭐ Subscription")
        home = await hanna.next("You have no licence yet")
        assert "Basic: 1 mo 25 ELC" in home.plain and "Your ELC balance: 100 ELC" in home.plain
        await hanna.press(home, "Start the free trial")
        await hanna.next("Your free trial runs until")
        used = await hanna.answer_to(await hanna.press(home, data=home.data_of("Start the free trial")))
        assert used["text"] == "You have already had the free trial."

        # Buying with ELC: the Pay button is a one-shot confirmation.
        await hanna.send("⭐ Subscription")
        await hanna.press(await hanna.next("Prices"), "Basic")
        await hanna.press(await hanna.next("choose the period"), "1 months: 25 ELC")
        plan = await hanna.next("Basic for 1 months (30 days)")
        assert "⭐ Pay 50 Stars" in plan.button_texts
        await hanna.press(plan, "Pay 25 ELC")
        await hanna.next("Paid 25 ELC. Your licence: Basic until")
        again = await hanna.answer_to(await hanna.press(plan, data=plan.data_of("Pay 25 ELC")))
        assert again["text"].startswith("This button no longer applies")
        assert (await platform.ledger.balance(user.id)).available == 75 * ELC

        # Telegram Stars: invoice, pre-checkout, payment.
        await hanna.press(plan, data=plan.data_of("Pay 50 Stars"))
        invoice = await hanna.next(lambda output: output.kind == "invoice")
        payload = invoice.message.raw["payload"]
        checkout = await hanna.pre_checkout(payload, 50)
        await world.api.wait_for(lambda: world.api.pre_checkout_answers.get(checkout))
        assert world.api.pre_checkout_answers[checkout]["ok"]
        await hanna.paid(payload, 50, charge_id="stars-charge-1")
        await hanna.next("Payment received. Your licence: Basic until")
        refused = await hanna.pre_checkout(payload, 50)  # the same invoice again: already paid
        await world.api.wait_for(lambda: world.api.pre_checkout_answers.get(refused))
        assert world.api.pre_checkout_answers[refused] == {
            "ok": False,
            "error_message": "This invoice can no longer be paid. Please ask for a new one.",
        }

        # A promo code.
        await platform.licences.create_promo(None, "SPRING25", LicenceTier.PREMIUM, 10, 5)
        await hanna.send("⭐ Subscription")
        await hanna.press(await hanna.next("Prices"), "Enter a promo code")
        await hanna.next("Send the promo code.")
        await hanna.send("nope-code")
        await hanna.next("There is no such promo code")
        await hanna.send("spring25")
        await hanna.next("Promo code applied: Premium until")
        assert (await platform.licences.current(user.id)).tier is LicenceTier.PREMIUM

        # The admin grants a licence from the user's card.
        ivan_user = await world.user(IVAN)
        await admin.send("🛠 Admin")
        await admin.press(await admin.next("Trading:"), "Users")
        await admin.send(f"#{ivan_user.id}")
        await admin.press(await admin.next("Users found: 1"), "Ivan")
        await admin.press(await admin.next("Status: approved"), "Grant a licence")
        await admin.press(await admin.next("Which licence"), "Enterprise 30d")
        await admin.press(await admin.next("Grant Enterprise for 30 days to Ivan?"), "Confirm")
        await admin.next("Ivan now holds Enterprise until")
        assert (await platform.licences.current(ivan_user.id)).tier is LicenceTier.ENTERPRISE

        # The wallet: balance, referral link, a transfer with its fee shown first, and not more than there is.
        await ivan.send("👛 Кошелёк")
        wallet = await ivan.next("Кошелёк")
        assert f"start={ivan_user.referral_code}" in wallet.plain
        await hanna.send("👛 Wallet")
        wallet = await hanna.next("Available: 75 ELC")
        await hanna.press(wallet, "Send ELC")
        await hanna.next("Send the recipient and the amount")
        await hanna.send(f"#{ivan_user.id} 10.5")
        confirm = await hanna.next("Send 10.5 ELC to Ivan?")
        await hanna.press(confirm, "Send")
        await hanna.next("Sent 10.5 ELC to Ivan.")
        await ivan.next("Вы получили 10,5 ELC от @hanna.")
        assert (await platform.ledger.balance(ivan_user.id)).available == 105 * ELC // 10
        await hanna.press(wallet, data=wallet.data_of("Send ELC"))
        await hanna.send(f"#{ivan_user.id} 1000")
        await hanna.press(await hanna.next("Send 1,000 ELC to Ivan?"), "Send")
        await hanna.next("Not enough ELC: you have 64.5 ELC")
        await hanna.press(wallet, data=wallet.data_of("History"))
        history = await hanna.next("Wallet history")
        assert "transfer -10.5" in history.plain and "payment -25" in history.plain

        # Hanna came through the admin's referral link: approving her paid him the signup reward (10 ELC), and
        # each of her two payments 10 % (2.5 ELC each: 25 ELC, and 50 Stars at 2 Stars an ELC).
        await admin.send("👛 Wallet")
        mine = await admin.next("People you referred: 1 · earned: 15 ELC")
        assert "Available: 15 ELC" in mine.plain
