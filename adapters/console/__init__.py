"""The offline console adapter: a rule-based stand-in for the model, in the terminal."""

from .interview import CommuteResults, IntroResults, interview_chart, interview_tasks
from .nlu import RuleBasedModel
from .runner import ConsoleRunner

__all__ = [
    "CommuteResults",
    "ConsoleRunner",
    "IntroResults",
    "RuleBasedModel",
    "interview_chart",
    "interview_tasks",
]
