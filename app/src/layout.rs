//! What every page shares: the header with the signed-in student, the sign-in guard,
//! error display, phone links and the help line footer.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::{components::Redirect, hooks::use_location};

use crate::{
    AppError,
    auth::{Logout, Me, who_am_i},
    error::IT_HELP_PHONE,
};

/// A page's data, read once per page: pages are rendered on the server only (islands),
/// and every navigation, sign-in and sign-out included, is a new request. Known before
/// the page renders when it was read with the request's session (page GETs, see
/// `session::read_before_render`): then it is drawn at once, without a `Suspense` to
/// wait on; otherwise it is loaded while the page renders.
#[derive(Clone)]
pub enum ReadFirst<T: Send + Sync + 'static> {
    // Only the server reads in advance (the browser never renders these parts).
    #[cfg_attr(not(feature = "ssr"), allow(dead_code))]
    Known(T),
    Loading(Resource<T>),
}

impl<T> ReadFirst<T>
where
    T: Clone + Send + Sync + 'static,
{
    /// The answer, once there is one (tracked while loading).
    pub fn get(&self) -> Option<T> {
        match self {
            ReadFirst::Known(value) => Some(value.clone()),
            ReadFirst::Loading(resource) => resource.get(),
        }
    }

    /// Draws `view` of the answer: at once when it is known (moved, not copied: the
    /// clearance page's is large), else once it is loaded.
    pub fn view<V>(
        self,
        fallback: fn() -> AnyView,
        view: impl Fn(T) -> V + Clone + Send + Sync + 'static,
    ) -> AnyView
    where
        V: IntoView + 'static,
    {
        match self {
            ReadFirst::Known(value) => view(value).into_any(),
            ReadFirst::Loading(resource) => view! {
                <Suspense fallback=fallback>
                    {move || {
                        let view = view.clone();
                        Suspend::new(async move { view(resource.await) })
                    }}
                </Suspense>
            }
            .into_any(),
        }
    }
}

/// The signed-in student (see [`ReadFirst`]), in the context of every page.
pub type CurrentUser = ReadFirst<Result<Option<Me>, AppError>>;

pub fn provide_current_user() {
    #[cfg(feature = "ssr")]
    if let Some(answer) = crate::auth::session::answered() {
        provide_context(CurrentUser::Known(Ok(answer.map(Me::from))));
        return;
    }
    provide_context(CurrentUser::Loading(Resource::new(|| (), |_| who_am_i())));
}

#[component]
pub fn Header() -> impl IntoView {
    let user: CurrentUser = expect_context();
    let nav = user.view(
        || ().into_any(),
        |user| {
            user.ok().flatten().map(|me| {
                view! {
                    <nav class="user-nav" aria-label="用户">
                        <span class="who">{me.name}</span>
                        {match me.staff_home {
                            Some(home) => view! { <a href=home>"工作台"</a> }.into_any(),
                            None => view! { <a href="/completed">"个人中心"</a> }.into_any(),
                        }}
                        // A plain form: the header is not an island (see the
                        // clearance page's forms).
                        <form action=Logout::url() method="post">
                            <button type="submit" class="link-button">"退出"</button>
                        </form>
                    </nav>
                }
            })
        },
    );
    view! {
        <header class="site-header">
            <div class="site-header-inner">
                <a class="brand" href="/hall">
                    <span class="brand-mark" aria-hidden="true">"离"</span>
                    <span>"网上办事大厅"</span>
                </a>
                {nav}
            </div>
        </header>
    }
}

#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>
                "如果您使用过程中有问题，可致电信息化建设与管理处 咨询电话："
                <TelLink number=IT_HELP_PHONE />
            </p>
        </footer>
    }
}

/// Renders `children` only for a signed-in student; anyone else goes to the sign-in page.
#[component]
pub fn SignedIn(children: ChildrenFn) -> impl IntoView {
    let user: CurrentUser = expect_context();
    let children = StoredValue::new(children);
    let on_password_page = move || use_location().pathname.get_untracked() == "/password";
    user.view(loading, move |user| match user {
        Ok(Some(me)) if me.must_change_password && !on_password_page() => {
            view! { <Redirect path="/password" /> }.into_any()
        }
        Ok(Some(_)) => children.read_value()().into_any(),
        Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
        Err(error) => view! { <ErrorPanel error /> }.into_any(),
    })
}

/// What a page shows in place of data still loading (on the server, where every page
/// waits for its data, never sent).
pub fn loading() -> AnyView {
    view! { <p class="loading">"加载中…"</p> }.into_any()
}

/// A failure that replaces the page's content; sets the HTTP status when rendered on the server.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    error.set_response_status();
    match error {
        AppError::Unauthenticated => return view! { <Redirect path="/login" /> }.into_any(),
        AppError::PasswordChangeRequired => {
            return view! { <Redirect path="/password" /> }.into_any();
        }
        _ => {}
    }
    view! {
        <section class="card error-panel" role="alert">
            <h1>"出错了"</h1>
            <p>{error.to_string()}</p>
            <p>
                <a href="/hall">"返回办事大厅"</a>
            </p>
        </section>
    }
    .into_any()
}

/// The error of the last run of a server action, in the user's words.
#[component]
pub fn ActionError<S>(action: ServerAction<S>) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    move || action.value().get().and_then(Result::err).map(error_notice)
}

/// An action's error as both kinds of page show it.
fn error_notice(error: AppError) -> impl IntoView {
    view! {
        <p class="notice error" role="alert">
            {error.to_string()}
        </p>
    }
}

/// The error the server function `S` reported to this page: a form posted without
/// JavaScript comes back here with it (what `ActionError` shows of a live action). For
/// pages that never hydrate, which need no action for it.
pub fn reported_error<S>() -> Option<AppError>
where
    S: leptos::server_fn::ServerFn<Error = AppError>,
{
    use leptos::server_fn::error::ServerFnUrlError;
    use_context::<leptos::server::ServerActionError>()
        .filter(|error| error.path() == S::PATH)
        .map(|error| ServerFnUrlError::<AppError>::decode_err(error.err()))
}

/// [`reported_error`], shown as `ActionError` shows it.
pub fn reported_error_notice<S>() -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError>,
{
    reported_error::<S>().map(error_notice)
}

/// A phone number people can tap to call.
#[component]
pub fn TelLink(number: &'static str) -> impl IntoView {
    view! { <a class="tel" href=format!("tel:{number}")>{number}</a> }
}
