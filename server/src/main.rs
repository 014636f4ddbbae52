//! Starts Lixiao: configuration, database, router, serve until told to stop.
//!
//! `server` serves; `server backup <file>` writes a consistent copy of the live SQLite
//! database to a new file and exits (PostgreSQL: use pg_dump, see docs/deploy.md).

use std::{net::SocketAddr, process::ExitCode};

use app::{config::Config, state::AppState};
use server::{routes, telemetry};

/// mimalloc gives freed memory back to the system (argon2's 19 MiB arrays after a sign-in
/// storm, SQLite's pages), where glibc keeps large freed blocks resident.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: server                        serve Lixiao
       server backup FILE            copy the live SQLite database to FILE (a new file)
       server staff add LOGIN ROLE   create a staff account; ROLE is one of
                                     library, archives, housing, finance, graduate_school, admin;
                                     prints a one-time password, changed at first sign-in
       server sync-token add NAME OFFICE
                                     a token for an office system's sync API; OFFICE is one
                                     of library, archives, housing, finance; printed once
       server sync-token revoke NAME the token stops working at once
       server sync-token list        every token's name, office and dates (never the token)
       server sync-openapi           print the sync API's OpenAPI document";

/// Threads for blocking work: here only file reads (tokio::fs, under ServeDir's static
/// files); argon2 and SQLite have threads of their own. tokio's default of 512 let a
/// burst of 64 static requests start 100 threads, each keeping its allocator heap for
/// the 10 s they idle. 8 keep the RSS flat and, with fewer threads to schedule on two
/// cores, served the static file faster (6,800 → 9,000–9,900 req/s in scripts/bench).
const BLOCKING_THREADS: usize = 8;

fn main() -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    // A local `.env` is a convenience for development; real deployments set the environment.
    let _ = dotenvy::dotenv();

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(&config.log_filter);

    // `server backup FILE` makes a copy and exits; plain `server` serves.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backup_to = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => None,
        ["backup", file] => Some((*file).to_owned()),
        ["staff", "add", login, role] => return add_staff(&config, login, role).await,
        ["sync-token", "add", name, office] => return sync_token_add(&config, name, office).await,
        ["sync-token", "revoke", name] => return sync_token_revoke(&config, name).await,
        ["sync-token", "list"] => return sync_token_list(&config).await,
        ["sync-openapi"] => {
            print!("{}", server::sync::openapi_document());
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(file) = backup_to {
        return backup(&config.database_url, &file).await;
    }
    // Serving needs what the one-off commands above do not: the slips' key and the
    // public address their QR codes link to.
    let slip_keys = match config.ready_to_serve() {
        Ok(keys) => keys.clone(),
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };

    // Opening also migrates: a server never runs against a schema it does not know.
    let db = match app::db::open_with(&config.database_url, config.pool).await {
        Ok(db) => db,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };

    if config.demo_data {
        match app::db::demo::seed(&db, &slip_keys).await {
            Ok(true) => tracing::info!("demo students seeded (LIXIAO_DEMO_DATA=1)"),
            Ok(false) => tracing::info!("database already has students; demo data not seeded"),
            Err(error) => {
                tracing::error!("{error}");
                return ExitCode::FAILURE;
            }
        }
    }

    // Departures from before serials got theirs from the migration; their tags need the
    // key, which only the server has.
    match app::db::slips::tag_untagged(&db, &slip_keys).await {
        Ok(0) => {}
        Ok(count) => tracing::info!("{count} departure slips tagged for verification"),
        Err(error) => {
            tracing::error!("cannot tag the departure slips: {error}");
            return ExitCode::FAILURE;
        }
    }

    let mut leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(error) => {
            tracing::error!("cannot read the Leptos configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    leptos_options.site_addr = config.listen_addr;
    // scripts/build names the browser files by their hashes (hash.txt beside this
    // binary); LEPTOS_HASH_FILES=false turns that off.
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        leptos_options.hash_files = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join(&*leptos_options.hash_file)))
            .is_some_and(|file| file.exists());
    }

    let listener = match tokio::net::TcpListener::bind(config.listen_addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!("cannot listen on {}: {error}", config.listen_addr);
            return ExitCode::FAILURE;
        }
    };
    let state = AppState::new(leptos_options, db.clone(), config);
    let lane = state.lane.clone();
    let site_root = std::path::Path::new(&*state.leptos_options.site_root);
    let missing = state.assets.missing_in(site_root);
    if !missing.is_empty() {
        // Served anyway (the pages work without script), but not as built: say so loudly.
        tracing::error!(
            "hash.txt beside this server names files that {} does not have ({}): pages \
             will load without their stylesheet and script; build the site and the \
             server together (scripts/build)",
            site_root.display(),
            missing.join(", ")
        );
    }
    tracing::info!("Lixiao is listening on http://{}", state.config.listen_addr);

    let router = routes::router(state);
    // Small answers leave at once: without TCP_NODELAY, Nagle's algorithm holds the
    // last segment of a response until the client's delayed ACK (tens of milliseconds).
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {error}");
        }
    });
    // The client address feeds the sign-in limit and the audit trail.
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(telemetry::shutdown_signal())
    .await;

    // Let SQLite checkpoint the WAL and release its files cleanly: the last connection
    // to close does it.
    lane.close().await;
    db.close().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `server backup FILE`: a consistent copy of the live database, taken while it serves
/// (and without changing it: no migration runs).
async fn backup(url: &str, file: &str) -> ExitCode {
    let started = std::time::Instant::now();
    match app::db::backup::sqlite_copy(url, std::path::Path::new(file)).await {
        Ok(()) => {
            tracing::info!(
                "backup written to {file} in {} ms",
                started.elapsed().as_millis()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// `server staff add LOGIN ROLE`: a staff account with a one-time password, printed once.
async fn add_staff(config: &Config, login: &str, role: &str) -> ExitCode {
    let login = login.trim();
    if app::desk::StaffRole::from_code(role).is_none() {
        eprintln!(
            "unknown role {role:?}: use library, archives, housing, finance, graduate_school or admin"
        );
        return ExitCode::from(2);
    }
    let valid_login = (3..=32).contains(&login.len())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        && !login.chars().all(|c| c.is_ascii_digit());
    if !valid_login {
        eprintln!(
            "a staff login is 3-32 letters, digits, '_', '.' or '-', and not all digits (all digits are students' numbers)"
        );
        return ExitCode::from(2);
    }
    let db = match app::db::open_with(&config.database_url, config.pool).await {
        Ok(db) => db,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let password = app::auth::password::one_time_password();
    let hash = match app::auth::password::hash(password.clone()).await {
        Ok(hash) => hash,
        Err(error) => {
            eprintln!("cannot hash the password: {error}");
            return ExitCode::FAILURE;
        }
    };
    let created = app::db::accounts::create_staff(&db, login, role, &hash).await;
    db.close().await;
    match created {
        Ok(true) => {
            println!("staff account {login} ({role}) created; one-time password: {password}");
            println!("it must be changed at the first sign-in, and is not shown again");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("the login {login} is taken; nothing changed");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("cannot create the account: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the database for a one-off command, or says why not.
async fn open_for_command(config: &Config) -> Option<app::db::Db> {
    match app::db::open_with(&config.database_url, config.pool).await {
        Ok(db) => Some(db),
        Err(error) => {
            eprintln!("{error}");
            None
        }
    }
}

/// `server sync-token add NAME OFFICE`: a random token, printed once, stored hashed.
async fn sync_token_add(config: &Config, name: &str, office: &str) -> ExitCode {
    use app::clearance::rules::Office;
    let Some(office) = Office::from_code(office) else {
        eprintln!("unknown office {office:?}: use library, archives, housing or finance");
        return ExitCode::from(2);
    };
    let valid_name = (3..=40).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if !valid_name {
        eprintln!("a token name is 3-40 letters, digits, '_', '.' or '-' (history shows it)");
        return ExitCode::from(2);
    }
    let Some(db) = open_for_command(config).await else {
        return ExitCode::FAILURE;
    };
    let token = app::db::sync::new_token();
    let added = app::db::sync::add_token(&db, name, office, &token, app::clock::now()).await;
    db.close().await;
    match added {
        Ok(true) => {
            println!("sync token {name} ({}) created:", office.code());
            println!("{token}");
            println!("it is not shown again; give it to the office system's operator");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("a token called {name} exists already; nothing changed");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("cannot store the token: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `server sync-token revoke NAME`.
async fn sync_token_revoke(config: &Config, name: &str) -> ExitCode {
    let Some(db) = open_for_command(config).await else {
        return ExitCode::FAILURE;
    };
    let revoked = app::db::sync::revoke_token(&db, name, app::clock::now()).await;
    db.close().await;
    match revoked {
        Ok(true) => {
            println!("sync token {name} revoked");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("no working token called {name}; nothing changed");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("cannot revoke the token: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `server sync-token list`.
async fn sync_token_list(config: &Config) -> ExitCode {
    let Some(db) = open_for_command(config).await else {
        return ExitCode::FAILURE;
    };
    let tokens = app::db::sync::list_tokens(&db).await;
    db.close().await;
    match tokens {
        Ok(tokens) => {
            for token in tokens {
                let revoked = token
                    .revoked_at
                    .map(|at| format!("revoked {at}"))
                    .unwrap_or_else(|| "working".to_owned());
                println!(
                    "{}\t{}\tcreated {}\t{revoked}",
                    token.name,
                    token.office.code(),
                    token.created_at
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cannot list the tokens: {error}");
            ExitCode::FAILURE
        }
    }
}
