"""Index operations that do not lock a table's writes while they run: on PostgreSQL the index is
built (or dropped) CONCURRENTLY, elsewhere (SQLite, `make run`'s demo) plainly. A migration that
uses them sets ``atomic = False``: CREATE INDEX CONCURRENTLY refuses to run in a transaction. If
such a migration is interrupted, PostgreSQL may leave an invalid index behind, to be dropped by
hand (DROP INDEX name) before migrating again."""

from django.db.migrations.operations import AddIndex, RemoveIndex


def _concurrently(schema_editor) -> dict:
    return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


class AddIndexWithoutBlocking(AddIndex):
    """AddIndex built CONCURRENTLY on PostgreSQL (writes go on meanwhile), plainly elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **_concurrently(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **_concurrently(schema_editor))


class RemoveIndexWithoutBlocking(RemoveIndex):
    """RemoveIndex dropped CONCURRENTLY on PostgreSQL, plainly elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.remove_index(model, index, **_concurrently(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.add_index(model, index, **_concurrently(schema_editor))
