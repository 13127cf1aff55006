"""Small helpers the record pages share: plain-text tables with clinic-time dates.

Everything from the EHR goes into st.dataframe cells (plain text), never into markdown.
"""

from typing import Any

import pandas as pd
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from components.plain_text import md_literal
from portal.timefmt import TABLE_DATE_FORMAT, table_datetime_format


def words(code: str) -> str:
    """'entered-in-error' -> 'Entered in error': FHIR codes as a patient would read them."""
    return code.replace("-", " ").replace("_", " ").capitalize()


def date_column(label: str) -> ColumnConfig:
    return st.column_config.DateColumn(label, format=TABLE_DATE_FORMAT)


def datetime_column(label: str) -> ColumnConfig:
    return st.column_config.DatetimeColumn(label, format=table_datetime_format())


def show_table(
    rows: list[dict[str, Any]],
    *,
    columns: list[str],
    empty: str,
    key: str,
    column_config: dict[str, Any] | None = None,
) -> None:
    """A read-only table, or the ``empty`` sentence when there are no rows."""
    if not rows:
        st.info(md_literal(empty))
        return
    st.dataframe(
        pd.DataFrame(rows, columns=columns),
        key=key,
        hide_index=True,
        width="stretch",
        column_config=column_config or {},
    )
