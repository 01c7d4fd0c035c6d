import pytest

from elcaro.models import ApprovalState, Role, TelegramProfile
from elcaro.models.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from elcaro.services.users import UserService
from elcaro.storage import Database

pytestmark = pytest.mark.db

ADMIN_TG = 1000


@pytest.fixture
def users(database: Database) -> UserService:
    return UserService(database, admin_telegram_ids=[ADMIN_TG])


async def test_registration_waits_for_approval(users: UserService) -> None:
    user = await users.register(TelegramProfile(42, username="trader", language_code="ru-RU"))
    assert user.approval is ApprovalState.PENDING and user.role is Role.USER
    assert user.language == "ru" and len(user.referral_code) == 8
    assert not user.may_trade
    await users.approve(user.id)
    assert not (await users.get(user.id)).may_trade  # terms not accepted yet
    assert (await users.accept_terms(user.id)).may_trade


async def test_config_admins_are_approved_admins(users: UserService) -> None:
    admin = await users.register(TelegramProfile(ADMIN_TG, language_code="de"))
    assert admin.role is Role.ADMIN and admin.approval is ApprovalState.APPROVED and admin.language == "en"
    with pytest.raises(ConflictError, match="admin by configuration"):
        await users.demote(admin.id)


async def test_config_admin_registered_before_the_setting_is_promoted_at_start(database: Database) -> None:
    early = await UserService(database).register(TelegramProfile(ADMIN_TG))
    assert early.role is Role.USER
    promoted = await UserService(database, [ADMIN_TG]).ensure_config_admins()
    assert [u.id for u in promoted] == [early.id] and promoted[0].is_admin


async def test_duplicate_registration_is_refused_and_writes_nothing(users: UserService, database: Database) -> None:
    await users.register(TelegramProfile(42))
    with pytest.raises(ConflictError, match="Telegram id 42 is already registered"):
        await users.register(TelegramProfile(42, username="again"))
    assert len(await users.list_users()) == 1
    async with database.transaction() as tx:
        assert [e.action for e in await tx.audit.list()] == ["user.register"]


async def test_referral_links_once_and_an_unknown_code_does_not_block(users: UserService) -> None:
    referrer = await users.register(TelegramProfile(1))
    referee = await users.register(TelegramProfile(2), referral_code=referrer.referral_code.lower())
    assert referee.referred_by == referrer.id
    stranger = await users.register(TelegramProfile(3), referral_code="NOSUCHCODE")
    assert stranger.referred_by is None


async def test_only_admins_act_on_others(users: UserService) -> None:
    admin = await users.register(TelegramProfile(ADMIN_TG))
    alice = await users.register(TelegramProfile(1))
    bob = await users.register(TelegramProfile(2))
    with pytest.raises(PermissionDeniedError):
        await users.approve(bob.id, actor_id=alice.id)
    banned = await users.ban(bob.id, actor_id=admin.id, reason="spam")
    assert banned.banned and not banned.may_trade
    assert not (await users.unban(bob.id)).banned  # the operator (CLI) needs no actor
    promoted = await users.promote(alice.id, actor_id=admin.id)
    assert promoted.is_admin and promoted.approval is ApprovalState.APPROVED


async def test_unknown_users_and_bad_input(users: UserService) -> None:
    with pytest.raises(NotFoundError, match="no user with id 999"):
        await users.approve(999)
    user = await users.register(TelegramProfile(7))
    with pytest.raises(ValidationError, match="unsupported language 'xx'"):
        await users.set_language(user.id, "xx")
    with pytest.raises(ValidationError, match="positive"):
        TelegramProfile(0)


async def test_listing_filters(users: UserService) -> None:
    first = await users.register(TelegramProfile(1))
    await users.register(TelegramProfile(2))
    await users.approve(first.id)
    pending = await users.list_users(approval=ApprovalState.PENDING)
    assert [u.telegram_id for u in pending] == [2]
