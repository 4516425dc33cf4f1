"""The API accepts exactly the committee's assessment labels."""

from typing import get_args

from services.scoring.domain.bands import Band
from services.scoring.domain.explain import ASSESSMENT_LABELS
from services.scoring.domain.trajectory import TrajectoryStatus
from services.scoring.schemas import AssessmentLabel


def test_assessment_labels_are_the_committees_bands_and_statuses() -> None:
    # "no data" is the platform's own word for a silence, never an assessment one records.
    assert set(get_args(AssessmentLabel)) == set(ASSESSMENT_LABELS) - {"no_data"}
    assert set(ASSESSMENT_LABELS) == {*Band, *TrajectoryStatus}
