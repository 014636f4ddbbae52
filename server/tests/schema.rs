//! The two backends' migrations are kept in step: applied to an empty SQLite file and an
//! empty PostgreSQL database, they must give the same tables, columns (by kind and
//! nullability), defaults, primary keys, unique constraints, foreign keys, CHECK
//! constraints (what each constrains: its columns, literals and comparisons) and indexes. Needs PostgreSQL: runs in the PostgreSQL pass of scripts/test.

#[macro_use]
mod support;

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{PgPool, SqlitePool};

/// The columns that hold instants: RFC 3339 text on SQLite, `timestamptz` on PostgreSQL.
const INSTANTS: [(&str, &str); 14] = [
    ("audit_log", "at"),
    ("departures", "submitted_at"),
    ("library_records", "card_cancelled_at"),
    ("office_states", "reported_at"),
    ("office_states", "override_at"),
    ("office_history", "at"),
    ("office_states", "source_as_of"),
    ("sync_tokens", "created_at"),
    ("sync_tokens", "revoked_at"),
    ("desk_imports", "uploaded_at"),
    ("students", "deactivated_at"),
    ("departures", "revoked_at"),
    ("roster_imports", "uploaded_at"),
    ("roster_imports", "heartbeat_at"),
];

/// Tables that are not Lixiao's schema: the migrators' bookkeeping.
const NOT_OURS: [&str; 1] = ["_sqlx_migrations"];

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// name → (kind, NOT NULL)
    columns: BTreeMap<String, (&'static str, bool)>,
    primary_key: Vec<String>,
    uniques: BTreeSet<Vec<String>>,
    /// (columns, referenced table, referenced columns)
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>)>,
    /// Indexes created by CREATE INDEX: (name, columns, unique, the fingerprint of a
    /// partial index's WHERE, or "" for a whole-table index).
    indexes: BTreeSet<(String, Vec<String>, bool, String)>,
    /// One fingerprint per CHECK constraint (see [`check_fingerprint`]), sorted.
    checks: Vec<String>,
    /// name → default value, normalised (`'approved'`, `0`; flags as 0/1).
    defaults: BTreeMap<String, String>,
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Number(String),
    Literal(String),
    Op(String),
    Other,
}

/// A small SQL tokenizer, enough to compare CHECK expressions written in two dialects.
fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut literal = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        literal.push('\'');
                        i += 2;
                        continue;
                    }
                    break;
                }
                literal.push(chars[i]);
                i += 1;
            }
            out.push(Token::Literal(literal));
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token::Word(
                chars[start..i]
                    .iter()
                    .collect::<String>()
                    .to_ascii_lowercase(),
            ));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Token::Number(chars[start..i].iter().collect()));
        } else if "<>=!".contains(c) {
            let start = i;
            while i < chars.len() && "<>=!".contains(chars[i]) {
                i += 1;
            }
            out.push(Token::Op(chars[start..i].iter().collect()));
        } else {
            if !c.is_whitespace() {
                out.push(Token::Other);
            }
            i += 1;
        }
    }
    out
}

/// What a CHECK constrains, the same however each dialect spells it: the table's columns
/// it names, its quoted literals, its comparisons of a column with a number, and its
/// logic (operators and the keywords AND, OR, NOT, IS, NULL, IN; PostgreSQL's
/// `= ANY (ARRAY[…])` is SQLite's `IN (…)`).
fn check_fingerprint(expression: &str, columns: &BTreeMap<String, (&'static str, bool)>) -> String {
    let tokens = tokens(expression);
    let mut named = BTreeSet::new();
    let mut literals = BTreeSet::new();
    let mut comparisons = BTreeSet::new();
    let mut logic = BTreeMap::<String, usize>::new();
    for (index, token) in tokens.iter().enumerate() {
        match token {
            Token::Word(word) if columns.contains_key(word) => {
                named.insert(word.clone());
                if let (Some(Token::Op(op)), Some(Token::Number(number))) =
                    (tokens.get(index + 1), tokens.get(index + 2))
                {
                    comparisons.insert(format!("{word}{op}{number}"));
                }
            }
            Token::Word(word)
                if ["and", "or", "not", "is", "null", "in"].contains(&word.as_str()) =>
            {
                *logic.entry(word.clone()).or_default() += 1;
            }
            Token::Word(word) if word == "any" => {
                *logic.entry("in".to_owned()).or_default() += 1;
            }
            Token::Op(op) => {
                let is_any =
                    matches!(tokens.get(index + 1), Some(Token::Word(word)) if word == "any");
                if !is_any {
                    *logic.entry(op.clone()).or_default() += 1;
                }
            }
            Token::Literal(literal) => {
                literals.insert(literal.clone());
            }
            _ => {}
        }
    }
    format!("columns {named:?} literals {literals:?} comparisons {comparisons:?} logic {logic:?}")
}

/// The expressions of the CHECK clauses in a CREATE TABLE statement (comments removed).
fn sqlite_checks(sql: &str) -> Vec<String> {
    let lower = sql.to_ascii_lowercase();
    let mut checks = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find("check") {
        let at = from + found;
        from = at + 5;
        // A whole word followed by an opening parenthesis.
        if lower[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = lower[from..].trim_start();
        if !rest.starts_with('(') {
            continue;
        }
        let open = lower.len() - rest.len();
        let (mut depth, mut end) = (0, open);
        for (offset, c) in lower[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + offset;
                        break;
                    }
                }
                _ => {}
            }
        }
        checks.push(sql[open + 1..end].to_owned());
        from = end;
    }
    checks
}

/// A default as both backends can be compared: no `::type` casts, flags as 0/1.
fn normalise_default(value: &str) -> String {
    let value = value.split("::").next().unwrap_or(value).trim();
    match value {
        "true" | "TRUE" => "1".to_owned(),
        "false" | "FALSE" => "0".to_owned(),
        other => other.to_owned(),
    }
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
        let mut checks = sqlite_checks(&without_comments(&sql));
        let mut key: Vec<(i64, String)> = Vec::new();
        for (_, column, declared, not_null, default, pk) in columns {
            // A flag is INTEGER held to 0 and 1 by a CHECK, where PostgreSQL has boolean
            // (and no CHECK).
            let flag = format!("{} in (0, 1)", column.to_ascii_lowercase());
            let before = checks.len();
            checks.retain(|check| {
                check
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_ascii_lowercase()
                    != flag
            });
            let kind = if checks.len() < before {
                "flag"
            } else {
                sqlite_kind(&declared)
            };
            if let Some(default) = default {
                table
                    .defaults
                    .insert(column.clone(), normalise_default(&default));
            }
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
        table.checks = checks
            .iter()
            .map(|check| check_fingerprint(check, &table.columns))
            .collect();
        table.checks.sort();
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
        for (index, unique, origin) in indexes {
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
                    let sql: Option<String> = sqlx::query_scalar(
                        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1",
                    )
                    .bind(&index)
                    .fetch_one(pool)
                    .await
                    .expect("index sql");
                    let predicate = sql
                        .as_deref()
                        .and_then(|sql| {
                            sql.to_lowercase()
                                .split_once(" where ")
                                .map(|(_, p)| p.to_owned())
                        })
                        .map(|predicate| check_fingerprint(&predicate, &table.columns))
                        .unwrap_or_default();
                    table
                        .indexes
                        .insert((index, columns, unique == 1, predicate));
                }
                _ => {} // the primary key's own index
            }
        }
        schema.insert(name, table);
    }
    schema
}

async fn postgres_schema(pool: &PgPool) -> Schema {
    let columns: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text,
                column_default::text
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    let mut schema = Schema::new();
    for (table, column, data_type, nullable, default) in columns {
        if NOT_OURS.contains(&table.as_str()) {
            continue;
        }
        let kind = postgres_kind(&table, &column, &data_type);
        let entry = schema.entry(table).or_default();
        if let Some(default) = default {
            entry
                .defaults
                .insert(column.clone(), normalise_default(&default));
        }
        entry.columns.insert(column, (kind, nullable == "NO"));
    }
    // Constraints, with their columns in key order: table, definition, kind, columns, and for
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
        "SELECT c.conrelid::regclass::text, pg_get_constraintdef(c.oid), c.contype::text,
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
    for (table, definition, kind, columns, parent, parent_columns) in constraints {
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
            "c" => {
                let expression = definition.trim_start_matches("CHECK ").to_owned();
                let fingerprint = check_fingerprint(&expression, &entry.columns);
                entry.checks.push(fingerprint);
                entry.checks.sort();
            }
            other => panic!("{table}: constraint kind {other} is not compared"),
        }
    }
    // Indexes of their own (not those behind a primary key or unique constraint).
    // table, index, columns, unique, the partial index's predicate
    type Index = (String, String, Vec<String>, bool, Option<String>);
    let indexes: Vec<Index> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text,
                ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY AS k(n, o)
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n
                      ORDER BY k.o),
                x.indisunique, pg_get_expr(x.indpred, x.indrelid)
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
    for (table, index, columns, unique, predicate) in indexes {
        if let Some(entry) = schema.get_mut(&table) {
            let predicate = predicate
                .map(|predicate| check_fingerprint(&predicate.to_lowercase(), &entry.columns))
                .unwrap_or_default();
            entry.indexes.insert((index, columns, unique, predicate));
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
    assert!(
        on_sqlite
            .values()
            .map(|table| table.checks.len())
            .sum::<usize>()
            > 10
    );
    assert!(
        on_sqlite
            .values()
            .map(|table| table.defaults.len())
            .sum::<usize>()
            >= 5
    );
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
