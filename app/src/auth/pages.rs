use leptos::prelude::*;
use leptos_meta::Title;

use super::{ChangePassword, Login, MAX_PASSWORD_CHARS, MIN_NEW_PASSWORD_CHARS};
use crate::{
    error::IT_HELP_PHONE,
    layout::{ActionError, CurrentUser, SignedIn, TelLink},
};

/// 统一身份认证: the sign-in page, with the source guide's password and reset help.
#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = leptos_router::hooks::use_query_map();
    let changed = move || query.read().get("changed").is_some_and(|flag| flag == "1");
    view! {
        <Title text="统一身份认证" />
        <section class="card login" aria-labelledby="login-title">
            <h1 id="login-title">"统一身份认证"</h1>
            <p class="muted">"登录中国矿业大学网上办事大厅"</p>
            <Show when=changed>
                <p class="notice success" role="status">"密码已修改，请使用新密码重新登录。"</p>
            </Show>
            <ActionForm action=login>
                <div class="field">
                    <label for="student_number">"学号"</label>
                    <input
                        id="student_number"
                        name="student_number"
                        autocomplete="username"
                        maxlength="32"
                        required
                    />
                </div>
                <div class="field">
                    <label for="password">"密码"</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        maxlength=MAX_PASSWORD_CHARS
                        required
                    />
                </div>
                <p class="hint">"学校工作人员请用工作账号登录，登录后进入本部门工作台。"</p>
                <ActionError action=login />
                <button type="submit" class="primary wide" disabled=move || login.pending().get()>
                    "登录"
                </button>
            </ActionForm>
            <div class="help">
                <h2>"登录说明"</h2>
                <p>
                    "用户名为学号。初始密码为身份证号码后 6 位，如有字母均为大写；"
                    "学校没有登记身份证号码的同学，初始密码为学号。首次登录后须修改初始密码。"
                </p>
                <p>
                    "如果统一身份认证登录密码不对，请手持校园卡（或者身份证）拍照，和学号一起发送到服务邮箱 "
                    <a href="mailto:auth@cumt.edu.cn">"auth@cumt.edu.cn"</a>
                    "，写明重置统一身份认证密码；或者致电 " <TelLink number=IT_HELP_PHONE />
                    " 进一步咨询。"
                </p>
            </div>
        </section>
    }
}

/// 修改密码.
#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let user = StoredValue::new(expect_context::<CurrentUser>());
    let first_time = move || {
        user.with_value(CurrentUser::get)
            .and_then(Result::ok)
            .flatten()
            .is_some_and(|me| me.must_change_password)
    };
    view! {
        <Title text="修改密码" />
        <SignedIn>
            <section class="card narrow" aria-labelledby="password-title">
                <h1 id="password-title">"修改密码"</h1>
                <Show when=first_time>
                    <p class="notice warning" role="status">
                        "首次登录请先修改初始密码。初始密码（身份证号码后 6 位，或学号）容易被他人猜到。"
                    </p>
                </Show>
                <ActionForm action=change>
                    <div class="field">
                        <label for="current_password">"当前密码"</label>
                        <input
                            id="current_password"
                            name="current_password"
                            type="password"
                            autocomplete="current-password"
                            required
                        />
                    </div>
                    <div class="field">
                        <label for="new_password">"新密码"</label>
                        <input
                            id="new_password"
                            name="new_password"
                            type="password"
                            autocomplete="new-password"
                            minlength=MIN_NEW_PASSWORD_CHARS
                            maxlength=MAX_PASSWORD_CHARS
                            required
                        />
                        <p class="hint">
                            {format!(
                                "{MIN_NEW_PASSWORD_CHARS} 至 {MAX_PASSWORD_CHARS} 个字符，区分大小写；不能使用常见密码或学号。修改后需用新密码重新登录。"
                            )}
                        </p>
                    </div>
                    <div class="field">
                        <label for="confirm_password">"确认新密码"</label>
                        <input
                            id="confirm_password"
                            name="confirm_password"
                            type="password"
                            autocomplete="new-password"
                            required
                        />
                    </div>
                    <ActionError action=change />
                    <button type="submit" class="primary" disabled=move || change.pending().get()>
                        "确认修改"
                    </button>
                </ActionForm>
            </section>
        </SignedIn>
    }
}
