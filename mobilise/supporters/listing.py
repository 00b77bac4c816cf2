"""Finding people on an office's list: a page of them, oldest first, by status, tag or search, at any size of list.

A million supporters change what each part costs. The page's rows are found by an index (ids; the trigram index
that PostgreSQL keeps on `search_text`), their tags in one query for the whole page, and:

- a page far down the list by `page` alone is read from whichever end of the list is nearer, so the last page
  costs what the first does; `after` (the last id of the page before) reads any page at the cost of the first;
- the total is an exact count, which on a broad search reads every match: the console asks for it only up to a
  limit (`count_up_to`), past which it says "more than".
"""

from sqlalchemy.orm import selectinload

from ..errors import Invalid
from ..extensions import db
from ..languages import fold
from ..offices.models import Office
from .models import STATUSES, Supporter, SupporterTag

MAX_PER_PAGE = 500


def list_supporters(
    office: Office,
    *,
    status=None,
    tag=None,
    q=None,
    page=1,
    per_page=50,
    after: int | None = None,
    count_up_to: int | None = None,
) -> dict:
    """One page of the office's supporters, oldest first; `q` is found in an address or a name whatever its accents
    and case ("rocio" finds Rocío; `%` and `_` are letters here, not wildcards). A page past the end has no items.

    `after`: only supporters with a larger id (`page` then counts from there). `count_up_to`: the total is counted
    no further than that, and `more` says whether there were more."""
    if status and status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(f"page starts at 1 and per_page is between 1 and {MAX_PER_PAGE}")
    query = _matching(office, status, tag, q)
    counted = query.with_only_columns(Supporter.id)
    if count_up_to is not None:
        counted = counted.limit(count_up_to + 1)
    total = db.session.scalar(db.select(db.func.count()).select_from(counted.subquery()))
    more = count_up_to is not None and total > count_up_to
    if more:
        total = count_up_to
    if after is not None:
        query = query.where(Supporter.id > after)
    start = (page - 1) * per_page
    if after is not None or more:
        # Counted from `after`, or not counted to the end: only the first end of the list is known. One row more
        # than the page says whether another page follows.
        rows = _page(query, start, per_page + 1, newest_first=False)
        rows, further = rows[:per_page], len(rows) > per_page
    elif start >= total:  # past the end there is nothing to ask for (an offset past 2**63 is not even a number)
        rows, further = [], False
    elif start > total - start - per_page:  # nearer the end: read from there, backwards
        end = min(start + per_page, total)
        rows, further = _page(query, total - end, end - start, newest_first=True)[::-1], end < total
    else:
        rows, further = _page(query, start, per_page, newest_first=False), start + per_page < total
    return {
        "items": [s.to_dict() for s in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
        # The id to give as `after` for the next page, if there is one.
        "next_after": rows[-1].id if further and rows else None,
        **({"more": more} if count_up_to is not None else {}),
    }


def _matching(office: Office, status, tag, q):
    query = db.select(Supporter).where(Supporter.office_id == office.id)
    if status:
        query = query.where(Supporter.status == status)
    if tag:
        query = query.where(
            db.select(SupporterTag.supporter_id)
            .where(SupporterTag.supporter_id == Supporter.id, SupporterTag.tag == tag)
            .exists()
        )
    if q and q.strip():
        # Folded as the stored text was (search_text_of), so a plain LIKE matches the same on both databases.
        # A query of accents alone folds to nothing: it finds nobody, not everyone.
        term = fold(q.strip())
        query = query.where(Supporter.search_text.contains(term, autoescape=True) if term else db.false())
    return query


def _page(query, offset: int, limit: int, *, newest_first: bool) -> list[Supporter]:
    order = Supporter.id.desc() if newest_first else Supporter.id
    # The page's tags in one query, not one per supporter.
    page = query.options(selectinload(Supporter.tag_rows)).order_by(order).offset(offset).limit(limit)
    return list(db.session.scalars(page))
