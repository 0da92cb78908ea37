"""``pytavern chat``: an interactive chat in the terminal.

Type a message and press Enter. Commands: ``/regen`` (a new reply in place of the last),
``/swipe`` (another reply, kept beside the others), ``/back`` (show the previous swipe),
``/continue`` (extend the last reply), ``/new`` (start a new chat), ``/help``, ``/quit``.
Ctrl-C while a reply streams stops it and keeps what arrived; Ctrl-C or Ctrl-D at the prompt
quits.
"""

from __future__ import annotations

import asyncio

import click

from pytavern.cli._common import current_settings, data_dir_option
from pytavern.cli._turns import error_line, resolve_chat, stdout, stream_turn
from pytavern.engine.services import GenerationMode, Services
from pytavern.errors import PytavernError

COMMANDS: dict[str, GenerationMode] = {
    "/regen": "regenerate",
    "/regenerate": "regenerate",
    "/swipe": "swipe",
    "/continue": "continue",
    "/summarize": "summarize",
}
HELP = (
    "/regen  new reply in place of the last   /swipe  another reply (kept beside it)\n"
    "/back   show the previous swipe          /continue  extend the last reply\n"
    "/new    start a new chat                 /quit   leave (Ctrl-D works too)\n"
    "/summarize  a new summary of the chat    /summary  show the chat's summary\n"
    "Ctrl-C while a reply streams stops it and keeps what arrived."
)


class ChatSession:
    """The state of one terminal chat."""

    def __init__(self, services: Services, chat_id: int, connection: str | None) -> None:
        self.services = services
        self.chat_id = chat_id
        self.connection = connection

    def show_history(self) -> None:
        """Print the newest messages of the chat."""
        for message in self.services.chats.history(self.chat_id, limit=20):
            who = "You" if message.is_user else message.name or "AI"
            mark = " [incomplete]" if message.swipe.status != "complete" else ""
            click.echo(f"{who}: {message.text}{mark}\n")

    async def turn(self, mode: GenerationMode, text: str | None) -> None:
        """Stream one turn to the terminal."""
        character = self.services.characters.get(self.services.chats.get(self.chat_id).character_id)
        if mode == "continue":
            last = self.services.chats.last_message(self.chat_id)
            click.echo(f"{character.name}: {last.text if last else ''}", nl=False)
        elif mode == "summarize":
            click.echo("[summary] ", nl=False)
        else:
            click.echo(f"{character.name}: ", nl=False)
        outcome = await stream_turn(
            self.services, self.chat_id, mode, text, connection=self.connection, out=stdout()
        )
        click.echo("\n")
        if outcome.error is not None:
            click.echo(error_line(outcome.error), err=True)
        elif outcome.summary_due:  # the summary settings: a new one every N messages
            await self.update_summary()

    async def update_summary(self) -> None:
        """Make the chat's summary anew, saying so in a line (not streamed)."""
        click.echo("[updating the chat's summary]", err=True)
        outcome = await stream_turn(
            self.services, self.chat_id, "summarize", None, connection=self.connection, out=None
        )
        if outcome.error is not None:
            click.echo(f"[summary not updated] {error_line(outcome.error)}", err=True)
        elif outcome.finished is not None and outcome.finished.extra.get("summary_saved"):
            click.echo("[summary updated]", err=True)
        else:
            click.echo("[summary not updated: it was cut short or came back empty]", err=True)

    def back(self) -> None:
        """Show the previous swipe of the last reply."""
        last = self.services.chats.last_message(self.chat_id)
        if last is None or last.swipe_count < 2:
            click.echo("(no other swipe)")
            return
        index = (last.active_swipe - 1) % last.swipe_count
        shown = self.services.messages.show_swipe(last.id, index)
        click.echo(f"[swipe {index + 1}/{shown.swipe_count}] {shown.text}\n")


def _run(
    runner: asyncio.Runner, session: ChatSession, mode: GenerationMode, text: str | None
) -> None:
    try:
        runner.run(session.turn(mode, text))
    except KeyboardInterrupt:
        click.echo("\n[stopped; the partial reply is kept]\n", err=True)
    except PytavernError as error:
        click.echo(f"error: {error}", err=True)


def _handle(line: str, runner: asyncio.Runner, session: ChatSession) -> bool:
    """Act on one input line; return False to quit."""
    command = line.strip()
    if command in ("/quit", "/exit", "/q"):
        return False
    if command == "/help":
        click.echo(HELP)
    elif command == "/back":
        session.back()
    elif command == "/summary":
        summary = session.services.chats.options(session.chat_id)["summary"]
        click.echo(f"[summary] {summary or '(none yet; /summarize makes one)'}\n")
    elif command == "/new":
        chats = session.services.chats
        chat = chats.start(chats.get(session.chat_id).character_id)
        session.chat_id = chat.id
        click.echo(f"[new chat {chat.id}]")
        session.show_history()
    elif command in COMMANDS:
        _run(runner, session, COMMANDS[command], None)
    elif command.startswith("/"):
        click.echo(f"unknown command {command}; /help lists them")
    elif command:
        _run(runner, session, "send", line)
    return True


@click.command("chat")
@click.option("--character", help="Character name (default: the first character).")
@click.option("--connection", help="Connection name (default: the default connection).")
@click.option("--chat", "chat_id", type=int, help="Open this chat (default: the latest).")
@click.option("--new", is_flag=True, help="Start a new chat.")
@data_dir_option
def chat_command(
    character: str | None, connection: str | None, chat_id: int | None, new: bool
) -> None:
    """Chat with a character in the terminal."""
    with asyncio.Runner() as runner:
        services = Services.open(current_settings())
        try:
            chat = resolve_chat(services, character=character, chat_id=chat_id, new=new)
            session = ChatSession(services, chat.id, connection)
            click.echo(f"[chat {chat.id}; /help for commands]\n")
            session.show_history()
            _loop(runner, session)
        except PytavernError as error:
            click.echo(f"error: {error}", err=True)
            raise SystemExit(1) from None
        finally:
            runner.run(services.aclose())


def _loop(runner: asyncio.Runner, session: ChatSession) -> None:
    while True:
        try:
            line = click.prompt("You", prompt_suffix=": ", default="", show_default=False)
        except (EOFError, KeyboardInterrupt, click.exceptions.Abort):
            click.echo()
            return
        if not _handle(line, runner, session):
            return
