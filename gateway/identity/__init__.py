"""Identity from the hospital's single sign-on: tokens of its identity provider, chat
front-ends acting for their users, and what both resolve to (a :class:`Principal`)."""
