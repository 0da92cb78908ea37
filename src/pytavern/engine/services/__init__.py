"""The engine's services: each use case written once, for every face.

The CLI, the REST routes and the Python API (``pytavern.api``) call these and nothing below
them: no face imports ``store``, ``providers``, ``formats`` or ``secrets``
(``tests/test_layers.py`` walks their imports). The records the services return are
re-exported here, so a face can name them in type hints.
"""

from __future__ import annotations

from pytavern.engine import Engine, GenerationMode
from pytavern.engine.services.characters import CardFile, CharacterService
from pytavern.engine.services.chats import ChatService, MessageService
from pytavern.engine.services.connections import (
    ConnectionCheck,
    ConnectionInput,
    ConnectionService,
    ConnectionView,
)
from pytavern.engine.services.data import DataService
from pytavern.engine.services.databank import DatabankService
from pytavern.engine.services.generation import GenerationService, TokenCount, TurnResult
from pytavern.engine.services.group_views import GroupTurn, GroupView
from pytavern.engine.services.groups import GroupService
from pytavern.engine.services.library import (
    LorebookService,
    PersonaService,
    PreferenceService,
    PresetService,
    PresetView,
)
from pytavern.engine.services.profiles import ConnectionProfile, ProfileService
from pytavern.engine.services.quick_replies import QuickReplyService
from pytavern.engine.services.regex import RegexService
from pytavern.engine.services.search import SearchService
from pytavern.engine.services.usage import UsageReport, UsageService
from pytavern.engine.services.users import UserService
from pytavern.settings import Settings
from pytavern.store import (
    CharacterRecord,
    ChatRecord,
    DocumentRecord,
    LorebookRecord,
    MessageRecord,
    PersonaRecord,
    SwipeRecord,
    UserRecord,
)

__all__ = [
    "CardFile",
    "CharacterRecord",
    "ChatRecord",
    "ConnectionCheck",
    "ConnectionInput",
    "ConnectionProfile",
    "ConnectionView",
    "DocumentRecord",
    "GenerationMode",
    "GroupTurn",
    "GroupView",
    "LorebookRecord",
    "MessageRecord",
    "PersonaRecord",
    "PresetView",
    "Services",
    "SwipeRecord",
    "TokenCount",
    "TurnResult",
    "UsageReport",
    "UserRecord",
]


class Services:
    """Every service over one engine (one data folder, as one user sees it)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.settings: Settings = engine.settings
        self.connections = ConnectionService(engine)
        self.characters = CharacterService(engine)
        self.chats = ChatService(engine)
        self.messages = MessageService(engine)
        self.personas = PersonaService(engine)
        self.lorebooks = LorebookService(engine)
        self.presets = PresetService(engine)
        self.preferences = PreferenceService(engine)
        self.generation = GenerationService(engine)
        self.users = UserService(engine)
        self.data = DataService(engine)
        self.groups = GroupService(engine)
        self.regex = RegexService(engine)
        self.search = SearchService(engine)
        self.quick_replies = QuickReplyService(engine)
        self.usage = UsageService(engine)
        self.profiles = ProfileService(engine)
        self.databank = DatabankService(engine)

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open a data folder (creating and migrating it) and return its services."""
        return cls(Engine.open(settings))

    def for_user(self, user_id: int) -> Services:
        """The services that see only ``user_id``'s data and keys."""
        return Services(self.engine.for_user(user_id))

    async def close_providers(self) -> None:
        """Close the backends' connections (the database stays open)."""
        await self.engine.providers.aclose()

    async def aclose(self) -> None:
        """Close the backends' connections and the database."""
        await self.engine.aclose()
