//! The PostgreSQL pool hands out no connection the server has dropped: connections are
//! not pinged before every use (a second round trip per page), only those idle for longer
//! than `ping_idle_after`, and one that fails that ping is replaced. Runs in the
//! PostgreSQL pass.

mod support;

use std::time::Duration;

use app::{config::PoolSettings, db::Db};

#[tokio::test]
async fn a_connection_the_server_dropped_while_idle_is_replaced_not_used() {
    if !support::on_postgres() {
        println!("skipped here: runs in the PostgreSQL pass (LIXIAO_TEST_BACKEND=postgres)");
        return;
    }
    let url = support::fresh_postgres_database().await;
    let database = url.rsplit('/').next().expect("a database name").to_owned();
    // One connection, so the one dropped below is the one the pool must hand out next.
    let settings = PoolSettings {
        max_connections: 1,
        ping_idle_after: Duration::from_millis(100),
        ..PoolSettings::default()
    };
    let db = app::db::open_with(&url, settings).await.expect("opens");
    let Db::Postgres(pool) = &db else {
        panic!("a postgres:// URL opens PostgreSQL");
    };
    let first: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
        .expect("a first query");

    // What a restart or a proxy's idle timeout does to it.
    let dropped = support::drop_server_connections(&database).await;
    assert_eq!(dropped, 1, "the pool's one connection was dropped");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let second: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
        .expect("the next request is served, on a new connection");
    assert_ne!(first, second);
    db.close().await;
}
