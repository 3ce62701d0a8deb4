"""Which messages a turn's prompt carries once a conversation outgrows the token budget:
the newest that fit, cut in steps so the summariser (a model call before the answer) runs
once every several turns, not on nearly every turn."""

from collections.abc import Callable

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately

from graph.nodes.agent import REFOLD_SHARE, budgeted_history, prompt_start

BUDGET = 2000


def _exchange(i: int) -> list[AnyMessage]:
    return [
        HumanMessage(f"question {i} " * (10 + i % 7), id=f"h{i}"),
        AIMessage(f"answer {i} " * (8 + i % 5), id=f"a{i}"),
    ]


def _just_below_budget(messages: list[AnyMessage], max_tokens: int, summarised: int) -> int:
    """The cut without steps: the newest messages that fit."""
    return len(messages) - len(budgeted_history(messages, max_tokens))


def _conversation(
    turns: int, *, summary_works: bool = True, start_of: Callable = prompt_start
) -> tuple[list[int], list[int]]:
    """Each turn's prompt start, and the turns at which messages left the prompt (and the
    summariser was asked), as the agent node runs them."""
    messages: list[AnyMessage] = []
    summarised, starts, folds = 0, [], []
    for turn in range(turns):
        messages.append(_exchange(turn)[0])
        start = start_of(messages, BUDGET, summarised)
        prompt = messages[start:]
        assert count_tokens_approximately(prompt) <= BUDGET
        assert prompt[0].type == "human" and prompt[-1].id == f"h{turn}"
        if start > summarised:
            folds.append(turn)
            if summary_works:
                summarised = start
        starts.append(start)
        messages.append(_exchange(turn)[1])
    return starts, folds


def test_the_prompt_keeps_the_newest_messages_within_the_budget():
    starts, folds = _conversation(300)
    assert folds[0] > 20  # nothing leaves the prompt before the budget is reached
    assert starts[:20] == [0] * 20


def test_messages_leave_the_prompt_in_steps_not_one_exchange_at_a_time():
    _, folds = _conversation(300)
    # cutting just below the budget drops an exchange (and asks the summariser) on nearly
    # every turn past it
    _, every_turn = _conversation(300, start_of=_just_below_budget)
    assert len(every_turn) > 250
    assert len(folds) < len(every_turn) / 5
    gaps = [later - earlier for earlier, later in zip(folds, folds[1:], strict=False)]
    assert min(gaps) >= 4


def test_a_refold_leaves_room_for_several_turns():
    messages: list[AnyMessage] = [m for i in range(200) for m in _exchange(i)]
    messages.append(HumanMessage("and one more", id="last"))
    start = prompt_start(messages, BUDGET, 0)
    assert count_tokens_approximately(messages[start:]) <= BUDGET * REFOLD_SHARE
    assert prompt_start(messages, BUDGET, start) == start  # the next turn keeps it


def test_when_the_summariser_fails_the_prompt_still_fits_and_it_is_asked_again():
    _, folds = _conversation(120, summary_works=False)
    # every turn past the budget asks again (the summary must cover what left the prompt)
    assert folds == list(range(folds[0], 120))
