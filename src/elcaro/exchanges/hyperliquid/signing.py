"""HyperLiquid request signing, byte-identical to ccxt's and fifty to a hundred times faster.

ccxt signs every HyperLiquid action through a pure-Python keccak (whenever OpenSSL is older than 3.2), a
hand-rolled EIP-712/ABI encoder and a pure-Python msgpack packer: milliseconds an order. What those layers compute
for HyperLiquid is a handful of fixed-layout byte strings, so they are built here directly, with msgpack's C packer,
pycryptodome's keccak and libsecp256k1 (through coincurve), and every constant part of the EIP-712 hash is computed
once at import. libsecp256k1 signs with RFC 6979 nonces and low s, exactly what ccxt itself asks coincurve for, so
the signature bytes are the same; the tests hold this against ccxt's own output.

HyperLiquid signs two kinds of action differently:

* L1 actions (orders, cancels, modifies, leverage, margin, ...): msgpack of the action, the nonce, the vault address
  and an optional expiry are hashed into the connection id of a "phantom agent", and that agent is signed as the
  EIP-712 struct ``Agent(string source,bytes32 connectionId)`` in the ``Exchange`` domain (chain id 1337).
* User-signed actions (withdrawals, transfers, agent and builder-fee approvals): the action's own fields are the
  EIP-712 struct, in the ``HyperliquidSignTransaction`` domain whose chain id is the action's ``signatureChainId``;
  these can be checked by a wallet showing the user what they sign, which is why they are not hashed opaquely.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final, NamedTuple, TypedDict

import coincurve
import msgpack  # ships no type information
from Crypto.Hash import keccak

from elcaro.models.secret import Secret

__all__ = [
    "USER_SIGNED_ACTIONS",
    "L1Signer",
    "Signature",
    "action_hash",
    "keccak256",
    "l1_signing_digest",
    "to_checksum_address",
    "user_signed_digest",
]


class Signature(TypedDict):
    """The ``signature`` member of a HyperLiquid ``/exchange`` request, in the exact form ccxt sends."""

    r: str
    s: str
    v: int


def keccak256(data: bytes) -> bytes:
    # Ethereum's Keccak-256 keeps the original padding; hashlib's sha3_256 is the NIST variant and differs.
    return keccak.new(data=data, digest_bytes=32).digest()


_SECP256K1_ORDER: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_U64_LIMIT: Final = 1 << 64
_PRIVATE_KEY_HEX: Final = re.compile(r"(?:0[xX])?([0-9a-fA-F]{64})")
_ADDRESS_HEX: Final = re.compile(r"(?:0[xX])?([0-9a-fA-F]{40})")

_DOMAIN_TYPE_HASH: Final = keccak256(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


def _domain_separator(name: str, chain_id: int) -> bytes:
    # Both HyperLiquid domains are version "1" with the zero address as verifying contract.
    return keccak256(
        _DOMAIN_TYPE_HASH + keccak256(name.encode()) + keccak256(b"1") + chain_id.to_bytes(32, "big") + bytes(32)
    )


_L1_DIGEST_PREFIX: Final = b"\x19\x01" + _domain_separator("Exchange", 1337)
_AGENT_TYPE_HASH: Final = keccak256(b"Agent(string source,bytes32 connectionId)")
# The encoded Agent struct is type hash || keccak(source) || connectionId: only the last 32 bytes change per action.
# The source is how the exchange keeps a testnet signature from being replayed on mainnet ("a" mainnet, "b" testnet).
_MAINNET_AGENT_PREFIX: Final = _AGENT_TYPE_HASH + keccak256(b"a")
_TESTNET_AGENT_PREFIX: Final = _AGENT_TYPE_HASH + keccak256(b"b")


class _UserSignedType(NamedTuple):
    type_hash: bytes
    fields: tuple[tuple[str, str], ...]


def _user_signed_type(primary_type: str, *fields: tuple[str, str]) -> _UserSignedType:
    encoded = f"{primary_type}({','.join(f'{kind} {name}' for name, kind in fields)})"
    return _UserSignedType(keccak256(encoded.encode()), fields)


# Field lists as ccxt (build_*_sig) and HyperLiquid's Python SDK declare them; order is part of the hash.
_USER_SIGNED_TYPES: Final[Mapping[str, _UserSignedType]] = {
    "usdSend": _user_signed_type(
        "HyperliquidTransaction:UsdSend",
        ("hyperliquidChain", "string"),
        ("destination", "string"),
        ("amount", "string"),
        ("time", "uint64"),
    ),
    "usdClassTransfer": _user_signed_type(
        "HyperliquidTransaction:UsdClassTransfer",
        ("hyperliquidChain", "string"),
        ("amount", "string"),
        ("toPerp", "bool"),
        ("nonce", "uint64"),
    ),
    "sendAsset": _user_signed_type(
        "HyperliquidTransaction:SendAsset",
        ("hyperliquidChain", "string"),
        ("destination", "string"),
        ("sourceDex", "string"),
        ("destinationDex", "string"),
        ("token", "string"),
        ("amount", "string"),
        ("fromSubAccount", "string"),
        ("nonce", "uint64"),
    ),
    "withdraw3": _user_signed_type(
        "HyperliquidTransaction:Withdraw",
        ("hyperliquidChain", "string"),
        ("destination", "string"),
        ("amount", "string"),
        ("time", "uint64"),
    ),
    "approveAgent": _user_signed_type(
        "HyperliquidTransaction:ApproveAgent",
        ("hyperliquidChain", "string"),
        ("agentAddress", "address"),
        ("agentName", "string"),
        ("nonce", "uint64"),
    ),
    "approveBuilderFee": _user_signed_type(
        "HyperliquidTransaction:ApproveBuilderFee",
        ("hyperliquidChain", "string"),
        ("maxFeeRate", "string"),
        ("builder", "address"),
        ("nonce", "uint64"),
    ),
    "userDexAbstraction": _user_signed_type(
        "HyperliquidTransaction:UserDexAbstraction",
        ("hyperliquidChain", "string"),
        ("user", "address"),
        ("enabled", "bool"),
        ("nonce", "uint64"),
    ),
    "userSetAbstraction": _user_signed_type(
        "HyperliquidTransaction:UserSetAbstraction",
        ("hyperliquidChain", "string"),
        ("user", "address"),
        ("abstraction", "string"),
        ("nonce", "uint64"),
    ),
}

USER_SIGNED_ACTIONS: Final = frozenset(_USER_SIGNED_TYPES)
"""Action ``type`` values signed with :meth:`L1Signer.sign_user_signed_action`; every other action is an L1 action."""


def to_checksum_address(address: str) -> str:
    """EIP-55 mixed-case form of a 20-byte hex address, the form wallets and HyperLiquid's UI show."""
    digits = _address_bytes(address, "address", checksum=False).hex()
    return "0x" + _checksum_digits(digits)


def _checksum_digits(lower_hex: str) -> str:
    nibbles = keccak256(lower_hex.encode()).hex()[: len(lower_hex)]
    return "".join(c.upper() if int(n, 16) > 7 else c for c, n in zip(lower_hex, nibbles, strict=True))


def _address_bytes(value: object, name: str, *, checksum: bool) -> bytes:
    if not isinstance(value, str) or (match := _ADDRESS_HEX.fullmatch(value)) is None:
        raise ValueError(f"{name} must be a 20-byte hex address (40 hex digits, optionally 0x-prefixed), got {value!r}")
    digits = match.group(1)
    lower = digits.lower()
    # Mixed case claims an EIP-55 checksum; ccxt's EIP-712 encoder refuses a wrong one and so does this, because a
    # wrong checksum means a mistyped address. ccxt does not check vault addresses, so neither is that done here.
    is_mixed_case = digits not in (lower, digits.upper())
    if checksum and is_mixed_case and digits != _checksum_digits(lower):
        raise ValueError(f"{name} {value!r} has an invalid EIP-55 checksum")
    return bytes.fromhex(lower)


def _u64(value: object, name: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value < _U64_LIMIT:
        raise ValueError(f"{name} must fit an unsigned 64-bit integer, got {value}")
    return value.to_bytes(8, "big")


def _msgpack_default(value: object) -> object:
    # Reached only for types msgpack cannot pack; ccxt would fail on these too, so nothing here changes a hash
    # that ccxt could have produced. Read-only mappings are accepted because they pack exactly like dicts.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(
        f"cannot pack {type(value).__name__} {value!r} into a HyperLiquid action; "
        "prices and sizes go on the wire as strings (ccxt's price_to_precision / amount_to_precision)"
    )


def action_hash(
    action: Mapping[str, Any], nonce: int, vault_address: str | None = None, expires_after: int | None = None
) -> bytes:
    """The phantom agent's connection id: keccak(msgpack(action) || nonce || vault flag [|| vault] [|| 0 || expiry]).

    msgpack keeps the action's key order, which is therefore part of the signature: build actions with their keys in
    the exchange's order (as ccxt does). Floats are packed as float64, as ccxt packs them; the exchange only accepts
    strings for prices and sizes.

    Integers are 8 bytes big-endian, as HyperLiquid's own SDK writes them. ccxt writes ``"00000" + "%X" % nonce`` in
    hex instead: the same bytes for 11-hex-digit values (2**40 <= n < 2**44, every millisecond timestamp from 2004 to
    2527), an exception or a wrong hash for any other value.
    """
    packed: bytes = msgpack.packb(action, default=_msgpack_default)
    data = packed + _u64(nonce, "nonce")
    if vault_address is None:
        data += b"\x00"
    else:
        data += b"\x01" + _address_bytes(vault_address, "vault_address", checksum=False)
    if expires_after is not None:
        data += b"\x00" + _u64(expires_after, "expires_after")
    return keccak256(data)


def l1_signing_digest(connection_id: bytes, *, is_mainnet: bool) -> bytes:
    """The EIP-712 digest of the phantom agent ``{source, connectionId}`` that an L1 action's signature covers."""
    if len(connection_id) != 32:
        raise ValueError(f"connection_id must be 32 bytes, got {len(connection_id)}")
    agent_prefix = _MAINNET_AGENT_PREFIX if is_mainnet else _TESTNET_AGENT_PREFIX
    return keccak256(_L1_DIGEST_PREFIX + keccak256(agent_prefix + connection_id))


@functools.lru_cache(maxsize=8)
def _user_signed_digest_prefix(chain_id: int) -> bytes:
    return b"\x19\x01" + _domain_separator("HyperliquidSignTransaction", chain_id)


def _encode_field(kind: str, name: str, value: object) -> bytes:
    if kind == "string":
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")
        return keccak256(value.encode())
    if kind == "uint64":
        return bytes(24) + _u64(value, name)
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
        return bytes(31) + (b"\x01" if value else b"\x00")
    if kind == "address":
        return bytes(12) + _address_bytes(value, name, checksum=True)
    raise AssertionError(f"no EIP-712 encoding for {kind}")  # pragma: no cover - the table above is closed


def user_signed_digest(action: Mapping[str, Any]) -> bytes:
    """The EIP-712 digest a user-signed action's signature covers; keys not in its struct (``type``) are ignored.

    The chain id comes from the action's ``signatureChainId``, which is what the exchange verifies against. ccxt
    hard-codes 421614 (``0x66eee``) and always sends that ``signatureChainId``, so for its actions the two agree.
    """
    action_type = action.get("type")
    spec = _USER_SIGNED_TYPES.get(action_type) if isinstance(action_type, str) else None
    if spec is None:
        known = ", ".join(sorted(USER_SIGNED_ACTIONS))
        raise ValueError(f"{action_type!r} is not a user-signed HyperLiquid action (those are: {known})")
    raw_chain_id = action.get("signatureChainId")
    if not isinstance(raw_chain_id, str) or not raw_chain_id.startswith("0x"):
        raise ValueError(f"signatureChainId must be a 0x-prefixed hex string, got {raw_chain_id!r}")
    try:
        chain_id = int(raw_chain_id, 16)
    except ValueError:
        raise ValueError(f"signatureChainId {raw_chain_id!r} is not hex") from None
    parts = [spec.type_hash]
    for name, kind in spec.fields:
        if name not in action:
            raise ValueError(f"{action_type} action lacks its signed field {name!r}")
        parts.append(_encode_field(kind, name, action[name]))
    return keccak256(_user_signed_digest_prefix(chain_id) + keccak256(b"".join(parts)))


def _private_key_bytes(private_key: str | bytes | Secret) -> bytes:
    # Error messages never quote the key: they end up in logs.
    if isinstance(private_key, Secret):
        private_key = private_key.reveal()
    if isinstance(private_key, bytes | bytearray):
        raw = bytes(private_key)
        if len(raw) != 32:
            raise ValueError(f"a secp256k1 private key is 32 bytes, got {len(raw)}")
    elif isinstance(private_key, str):
        match = _PRIVATE_KEY_HEX.fullmatch(private_key)
        if match is None:
            raise ValueError(
                f"a secp256k1 private key is 64 hex digits, optionally 0x-prefixed; got {len(private_key)} characters"
            )
        raw = bytes.fromhex(match.group(1))
    else:
        raise TypeError(f"a private key is a hex str, bytes or Secret, not {type(private_key).__name__}")
    if not 0 < int.from_bytes(raw, "big") < _SECP256K1_ORDER:
        raise ValueError("the private key is outside secp256k1's range (zero, or not below the group order)")
    return raw


class L1Signer:
    """Signs HyperLiquid actions with one key (an API agent's or a wallet's) for one network.

    Named after the L1 actions, the hot path (every order, cancel and modify); it signs user-signed actions too.
    Holds the private key for its lifetime, so it shows only its address and refuses to be pickled. Stateless past
    construction and thread-safe; a signature costs tens of microseconds, cheap enough to run on the event loop.
    """

    __slots__ = ("_address", "_chain_name", "_is_mainnet", "_key")

    def __init__(self, private_key: str | bytes | Secret, *, is_mainnet: bool) -> None:
        self._key = coincurve.PrivateKey(_private_key_bytes(private_key))
        self._is_mainnet = is_mainnet
        self._chain_name = "Mainnet" if is_mainnet else "Testnet"
        public_key = self._key.public_key.format(compressed=False)[1:]
        self._address = "0x" + _checksum_digits(keccak256(public_key)[-20:].hex())

    @property
    def address(self) -> str:
        """The key's address, EIP-55 checksummed; for an agent key, the agent's, not the wallet it trades for."""
        return self._address

    @property
    def is_mainnet(self) -> bool:
        return self._is_mainnet

    def sign_l1_action(
        self,
        action: Mapping[str, Any],
        nonce: int,
        vault_address: str | None = None,
        expires_after: int | None = None,
    ) -> Signature:
        """Sign an L1 action as ccxt's ``sign_l1_action`` does; ``vault_address`` may carry ``0x`` or not."""
        connection_id = action_hash(action, nonce, vault_address, expires_after)
        return self._sign(l1_signing_digest(connection_id, is_mainnet=self._is_mainnet))

    def sign_user_signed_action(self, action: Mapping[str, Any]) -> Signature:
        """Sign a user-signed action (``type`` in :data:`USER_SIGNED_ACTIONS`), given as it will be sent.

        The action's ``hyperliquidChain`` must name this signer's network: the exchange rejects a mismatch anyway,
        and refusing here keeps a request meant for one network from being signed for the other.
        """
        chain = action.get("hyperliquidChain")
        if chain != self._chain_name:
            raise ValueError(f"hyperliquidChain is {chain!r} but this signer is for {self._chain_name}")
        return self._sign(user_signed_digest(action))

    def _sign(self, digest: bytes) -> Signature:
        raw = self._key.sign_recoverable(digest, hasher=None)
        return {"r": "0x" + raw[:32].hex(), "s": "0x" + raw[32:64].hex(), "v": 27 + raw[64]}

    def __repr__(self) -> str:
        return f"L1Signer(address={self._address!r}, is_mainnet={self._is_mainnet})"

    def __reduce__(self) -> str:
        raise TypeError("an L1Signer holds a private key and is not picklable")
