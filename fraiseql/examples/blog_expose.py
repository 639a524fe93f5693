"""The blog's generated root fields, beside the seed's hand-written ones (blog_api).

Importing this module (after blog_api, whose `User` and `Post` it exposes) declares
`allUsers` (a filtered, ordered list) and `usersConnection` (a Relay connection) without
resolvers; the seed's own `users(limit)` gets `where`, `orderBy` and `offset` generated as
well. It also declares the commands of the tables behind them, generated from their
columns once the app has read them (fraiseql.generated_commands): `updateUser` and
`deleteUser` write tb_user and answer qm_user's document (both take the `expectedVersion`
qm_user keeps), beside blog_api's `createUser`; `createPost`, `updatePost` and `deletePost`
write tb_post, which is Post's own table. Each answers a typed result. Try:

    { allUsers(where: {email: {endswith: "@example.com"}}, orderBy: [{createdAt: DESC}],
               limit: 3) { id email createdAt } }
    { usersConnection(first: 2) { edges { cursor node { id } } pageInfo { endCursor } } }
    mutation { updateUser(id: 1, input: {lastName: "Lovelace"}, expectedVersion: 1) {
               ... on UpdateUserSuccess { user { lastName } }
               ... on UpdateUserError { code message currentVersion } } }
"""

from __future__ import annotations

import fraiseql
from fraiseql.examples.blog_api import Post, User

fraiseql.expose(
    User,
    many="allUsers",
    connection="usersConnection",
    update="updateUser",
    delete="deleteUser",
)
fraiseql.expose(Post, create="createPost", update="updatePost", delete="deletePost")
