"""Offers near the person: the search, one offer, "Ça m'intéresse"; and counsellors' entry."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.roles import BENEFICIARY, STAFF, public, roles_required
from portal.beneficiaries.services import referent_names
from portal.core.forms import ConfirmForm
from portal.core.web import go_to, page_or_fragment
from portal.extensions import db
from portal.offers import labels, services
from portal.offers.forms import ANY_DISTANCE, REMOTE, InterestForm, OfferForm, OfferSearchForm
from portal.offers.models import OfferKind
from portal.offers.places import Place, find_place, place_of_postal_code

bp = Blueprint("offers", __name__, url_prefix="/offres")
staff_bp = Blueprint("offers_staff", __name__, url_prefix="/conseiller/offres")


@bp.app_context_processor
def offer_words():
    return {"offer_labels": labels}


def _own_place() -> Place | None:
    if current_user.is_authenticated and current_user.portal_role == BENEFICIARY:
        return place_of_postal_code(current_user.postal_code)
    return None


def _search_from(form: OfferSearchForm) -> tuple[services.OfferSearch | None, Place | None]:
    """The search the form asks for, or None when the place typed is unknown."""
    typed = (form.lieu.data or "").strip() if not form.lieu.errors else ""
    place = find_place(typed) if typed else _own_place()
    if typed and place is None:
        form.lieu.errors = [
            _(
                "Nous ne trouvons pas « %(place)s ». Écrivez un code postal (5 chiffres) "
                "ou le nom d'une ville.",
                place=typed,
            )
        ]
        return None, None
    # A field in error is left out of the search; its message shows next to it.
    distance = "20" if form.distance.errors else form.distance.data
    kinds = [] if form.type.errors else form.type.data or []
    return (
        services.OfferSearch(
            kinds=frozenset(OfferKind(kind) for kind in kinds),
            words="" if form.q.errors else form.q.data or "",
            place=place,
            within_km=None if distance in (ANY_DISTANCE, REMOTE) else int(distance),
            remote=distance == REMOTE,
            starting_from=None if form.debut.errors else form.debut.data,
            page=1 if form.page.errors else form.page.data or 1,
        ),
        place,
    )


# "/offres?lieu=…" as people and texts write it, without a redirect.
@bp.route("/", strict_slashes=False)
@public
def index():
    """The same filters as a plain GET form (a shareable URL) and, with htmx, live."""
    form = OfferSearchForm(formdata=request.args)
    form.validate()
    if not request.args.get("lieu") and not form.lieu.data:
        own = _own_place()
        form.lieu.data = own.postal_code if own else ""
    search, place = _search_from(form)
    results = services.search_offers(search) if search else None
    return page_or_fragment(
        "offers/index.html",
        "offers/_results.html",
        form=form,
        results=results,
        search=search,
        place=place,
        query=_query_without_page(),
    )


def _query_without_page() -> list[tuple[str, str]]:
    return [(key, value) for key, value in request.args.items(multi=True) if key != "page"]


def _offer_or_404(offer_id: int):
    offer = services.visible_offer(offer_id)
    if offer is None:
        abort(404)
    return offer


def _referent_names() -> list[str]:
    if not current_user.is_authenticated or current_user.portal_role != BENEFICIARY:
        return []
    return referent_names(current_user)


def _detail_context(offer, form: InterestForm | None = None) -> dict:
    typed = request.args.get("lieu", "")
    place = find_place(typed) if typed else _own_place()
    interest = None
    if current_user.is_authenticated and current_user.portal_role == BENEFICIARY:
        interest = services.interest_of(current_user, offer)
    return {
        "offer": offer,
        "distance": services.distance_from(place, offer),
        "place": place,
        "interest": interest,
        "may_withdraw": interest is not None and services.may_withdraw_interest(interest),
        "withdraw_form": ConfirmForm(),
        "form": form or InterestForm(formdata=None),
        "referents": _referent_names(),
    }


@bp.route("/<int:offer_id>")
@public
def detail(offer_id: int):
    """What, who, where, when; for an immersion what a PMSMP is; the interest button."""
    offer = _offer_or_404(offer_id)
    return render_template("offers/detail.html", **_detail_context(offer))


@bp.route("/<int:offer_id>/interet", methods=["POST"])
@roles_required(BENEFICIARY)
def interest(offer_id: int):
    """Records the interest once; the person then sees what happens next."""
    offer = _offer_or_404(offer_id)
    form = InterestForm()
    if not form.validate_on_submit():
        context = _detail_context(offer, form)
        # htmx swaps only 2xx answers: the fragment with its message comes back as 200.
        status = 200 if request.htmx else 422
        return page_or_fragment("offers/detail.html", "offers/_interest.html", status, **context)
    services.express_interest(current_user, offer, form.message.data)
    db.session.commit()
    if request.htmx:
        return render_template("offers/_interest.html", **_detail_context(offer))
    return redirect(url_for("offers.detail", offer_id=offer.id, _anchor="interet"))


@bp.route("/<int:offer_id>/interet/retirer", methods=["POST"])
@roles_required(BENEFICIARY)
def withdraw_interest(offer_id: int):
    """The person is no longer interested: the interest and its planned step go."""
    offer = _offer_or_404(offer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    withdrawn = services.withdraw_interest(current_user, offer)
    db.session.commit()
    message = (
        _(
            "C'est noté : « %(title)s » ne vous intéresse plus. "
            "L'étape est retirée de votre parcours.",
            title=offer.title,
        )
        if withdrawn
        else _("Il n'y a plus rien à retirer pour cette offre.")
    )
    if request.htmx:
        return render_template("offers/_interest.html", notice=message, **_detail_context(offer))
    flash(message, "info")
    return redirect(url_for("offers.detail", offer_id=offer.id, _anchor="interet"))


# --- Counsellors enter offers -------------------------------------------------------


@staff_bp.route("/")
@roles_required(*STAFF)
def staff_index():
    """The organisation's visible offers, newest first, and the way to add one."""
    return render_template(
        "offers/staff_index.html",
        offers=services.organisation_offers(current_user),
        withdraw_form=ConfirmForm(),
    )


@staff_bp.route("/nouvelle", methods=["GET", "POST"])
@staff_bp.route("/<int:offer_id>/modifier", methods=["GET", "POST"])
@roles_required(*STAFF)
def staff_edit(offer_id: int | None = None):
    offer = None
    if offer_id is not None:
        offer = services.organisation_offer(current_user, offer_id)
        if offer is None:
            abort(404)
    form = OfferForm(obj=offer) if request.method == "GET" else OfferForm()
    if offer is not None and request.method == "GET":
        form.kind.data, form.remote.data = offer.kind.value, offer.is_remote
    if form.validate_on_submit():
        saved = services.enter_offer(current_user, form.fields(), offer)
        db.session.commit()
        flash(_("L'offre est enregistrée. Les personnes la voient maintenant."), "info")
        return go_to(url_for("offers.detail", offer_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return render_template("offers/staff_edit.html", form=form, offer=offer), status


@staff_bp.route("/<int:offer_id>/retirer", methods=["POST"])
@roles_required(*STAFF)
def staff_withdraw(offer_id: int):
    offer = services.organisation_offer(current_user, offer_id)
    if offer is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.withdraw_offer(offer)
    db.session.commit()
    flash(_("L'offre est retirée : personne ne la voit plus."), "info")
    return go_to(url_for("offers_staff.staff_index"))
