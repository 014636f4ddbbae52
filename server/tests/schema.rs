//! The two backends' migrations are kept in step: applied to an empty SQLite file and an
//! empty PostgreSQL database, they must give the same tables, columns (by kind and
//! nullability), primary keys, unique constraints, foreign keys, CHECK constraints (by
//! count) and indexes. Needs PostgreSQL: runs in the PostgreSQL pass of scripts/test.

#[macro_use]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{PgPool, SqlitePool};

/// The columns that hold instants: RFC 3339 text on SQLite, `timestamptz` on PostgreSQL.
const INSTANTS: [(&str, &str); 3] = [
    ("audit_log", "at"),
    ("departures", "submitted_at"),
    ("library_records", "card_cancelled_at"),
];

/// Tables that are not Lixiao's schema: the migrators' bookkeeping, and the session
/// store's table (created by the store, in its own shape on each backend).
const NOT_OURS: [&str; 3] = ["_sqlx_migrations", "tower_sessions", "session"];

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// name → (kind, NOT NULL)
    columns: BTreeMap<String, (&'static str, bool)>,
    primary_key: Vec<String>,
    uniques: BTreeSet<Vec<String>>,
    /// (columns, referenced table, referenced columns)
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>)>,
    /// Indexes created by CREATE INDEX: (name, columns).
    indexes: BTreeSet<(String, Vec<String>)>,
    checks: usize,
}

type Schema = BTreeMap<String, Table>;

fn sqlite_kind(declared: &str) -> &'static str {
    match declared.to_ascii_uppercase().as_str() {
        "TEXT" => "text",
        "INTEGER" => "integer",
        other => panic!("SQLite column type {other} has no kind here"),
    }
}

fn postgres_kind(table: &str, column: &str, data_type: &str) -> &'static str {
    let instant = INSTANTS.contains(&(table, column));
    match data_type {
        "text" if !instant => "text",
        // SQLite keeps an instant as text: the same kind.
        "timestamp with time zone" if instant => "text",
        "bigint" if !instant => "integer",
        // SQLite: INTEGER with CHECK (column IN (0, 1)).
        "boolean" if !instant => "flag",
        other => panic!(
            "{table}.{column}: PostgreSQL type {other} is not what this schema uses there \
             (instants are timestamptz, whole numbers bigint, flags boolean, the rest text)"
        ),
    }
}

/// Removes `-- …` comments, so a CHECK mentioned in a comment is not counted.
fn without_comments(sql: &str) -> String {
    sql.lines()
        .map(|line| line.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn sqlite_schema(pool: &SqlitePool) -> Schema {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut schema = Schema::new();
    for (name, sql) in tables {
        if NOT_OURS.contains(&name.as_str()) {
            continue;
        }
        let mut table = Table::default();
        let columns: Vec<(i64, String, String, i64, Option<String>, i64)> =
            sqlx::query_as("SELECT * FROM pragma_table_info($1)")
                .bind(&name)
                .fetch_all(pool)
                .await
                .expect("columns");
        let sql = without_comments(&sql)
            .to_ascii_uppercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("CHECK(", "CHECK (");
        table.checks = sql.matches("CHECK (").count();
        let mut key: Vec<(i64, String)> = Vec::new();
        for (_, column, declared, not_null, _, pk) in columns {
            // A flag is INTEGER held to 0 and 1 by a CHECK, where PostgreSQL has boolean
            // (and no CHECK).
            let flag = format!("CHECK ({} IN (0, 1))", column.to_ascii_uppercase());
            let kind = if sql.contains(&flag) {
                table.checks -= 1;
                "flag"
            } else {
                sqlite_kind(&declared)
            };
            // A primary key column is never NULL, whatever the pragma says of rowid aliases.
            table
                .columns
                .insert(column.clone(), (kind, not_null == 1 || pk > 0));
            if pk > 0 {
                key.push((pk, column));
            }
        }
        key.sort();
        table.primary_key = key.into_iter().map(|(_, column)| column).collect();
        let foreign: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(pool)
        .await
        .expect("foreign keys");
        let mut by_id: BTreeMap<i64, (Vec<String>, String, Vec<String>)> = BTreeMap::new();
        for (id, _, parent, from, to) in foreign {
            let entry = by_id
                .entry(id)
                .or_insert_with(|| (Vec::new(), parent, Vec::new()));
            entry.0.push(from);
            entry.2.push(to);
        }
        table.foreign_keys = by_id.into_values().collect();
        let indexes: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT name, \"unique\", origin FROM pragma_index_list($1)")
                .bind(&name)
                .fetch_all(pool)
                .await
                .expect("indexes");
        for (index, _, origin) in indexes {
            let columns: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await
                    .expect("index columns");
            let columns: Vec<String> = columns.into_iter().map(|(column,)| column).collect();
            match origin.as_str() {
                "u" => {
                    table.uniques.insert(columns);
                }
                "c" => {
                    table.indexes.insert((index, columns));
                }
                _ => {} // the primary key's own index
            }
        }
        schema.insert(name, table);
    }
    schema
}

async fn postgres_schema(pool: &PgPool) -> Schema {
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    let mut schema = Schema::new();
    for (table, column, data_type, nullable) in columns {
        if NOT_OURS.contains(&table.as_str()) {
            continue;
        }
        let kind = postgres_kind(&table, &column, &data_type);
        schema
            .entry(table)
            .or_default()
            .columns
            .insert(column, (kind, nullable == "NO"));
    }
    // Constraints, with their columns in key order: table, name, kind, columns, and for
    // a foreign key the referenced table and columns.
    type Constraint = (
        String,
        String,
        String,
        Vec<String>,
        Option<String>,
        Vec<String>,
    );
    let constraints: Vec<Constraint> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname::text, c.contype::text,
                    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
                          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                          ORDER BY k.i),
                    c.confrelid::regclass::text,
                    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
                          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                          ORDER BY k.i)
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
             WHERE n.nspname = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("constraints");
    for (table, _, kind, columns, parent, parent_columns) in constraints {
        let Some(entry) = schema.get_mut(&table) else {
            continue;
        };
        match kind.as_str() {
            "p" => entry.primary_key = columns,
            "u" => {
                entry.uniques.insert(columns);
            }
            "f" => {
                entry.foreign_keys.insert((
                    columns,
                    parent.expect("referenced table"),
                    parent_columns,
                ));
            }
            "c" => entry.checks += 1,
            other => panic!("{table}: constraint kind {other} is not compared"),
        }
    }
    // Indexes of their own (not those behind a primary key or unique constraint).
    let indexes: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text,
                ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY AS k(n, o)
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n
                      ORDER BY k.o)
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = 'public'
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
    )
    .fetch_all(pool)
    .await
    .expect("indexes");
    for (table, index, columns) in indexes {
        if let Some(entry) = schema.get_mut(&table) {
            entry.indexes.insert((index, columns));
        }
    }
    schema
}

#[tokio::test]
async fn both_backends_have_the_same_schema() {
    if !support::on_postgres() {
        println!("skipped here: runs in the PostgreSQL pass (LIXIAO_TEST_BACKEND=postgres)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = app::db::open(&format!(
        "sqlite://{}",
        dir.path().join("lixiao.db").display()
    ))
    .await
    .expect("SQLite migrates");
    let postgres = app::db::open(&support::fresh_postgres_database().await)
        .await
        .expect("PostgreSQL migrates");
    let (app::db::Db::Sqlite(sqlite), app::db::Db::Postgres(postgres)) = (&sqlite, &postgres)
    else {
        panic!("each URL opens its own backend");
    };
    let on_sqlite = sqlite_schema(sqlite).await;
    let on_postgres = postgres_schema(postgres).await;

    let names = |schema: &Schema| schema.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(
        names(&on_sqlite),
        names(&on_postgres),
        "the same tables on both backends"
    );
    for (name, table) in &on_sqlite {
        assert_eq!(
            Some(table),
            on_postgres.get(name),
            "table {name}: SQLite (left) and PostgreSQL (right) differ"
        );
    }
    // The comparison has something to compare.
    assert!(on_sqlite.len() >= 11, "{:?}", names(&on_sqlite));
    assert!(on_sqlite.values().map(|table| table.checks).sum::<usize>() > 10);
    println!(
        "{} tables, {} columns, {} indexes compared",
        on_sqlite.len(),
        on_sqlite
            .values()
            .map(|table| table.columns.len())
            .sum::<usize>(),
        on_sqlite
            .values()
            .map(|table| table.indexes.len())
            .sum::<usize>()
    );
}
