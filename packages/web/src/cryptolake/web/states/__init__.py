"""One Reflex state per page; :class:`~cryptolake.web.states.base.PageState` is their mixin."""
