use leptos::prelude::*;
use leptos_meta::Title;

use crate::{layout::SignedIn, pwa::InstallOffer};

/// 办事大厅: the service hall with its 学生事务 column and 个人中心.
#[component]
pub fn HallPage() -> impl IntoView {
    view! {
        <Title text="办事大厅" />
        <SignedIn>
            <h1 class="page-title">"办事大厅"</h1>
            <InstallOffer />
            <div class="hall">
                <section class="card column" aria-labelledby="student-affairs">
                    <h2 id="student-affairs">"学生事务"</h2>
                    <ul class="services">
                        <li>
                            <a class="service" href="/clearance">
                                <span class="service-name">"研究生离校信息查询"</span>
                                <span class="service-desc">"核对图书馆、档案馆、公寓、财务四个离校审核事项，提交离校流程"</span>
                            </a>
                        </li>
                    </ul>
                </section>
                <section class="card column" aria-labelledby="personal-centre">
                    <h2 id="personal-centre">"个人中心"</h2>
                    <ul class="services">
                        <li>
                            <a class="service" href="/completed">
                                <span class="service-name">"已完成事项"</span>
                                <span class="service-desc">"查看并打印已提交的离校流程"</span>
                            </a>
                        </li>
                        <li>
                            <a class="service" href="/password">
                                <span class="service-name">"修改密码"</span>
                                <span class="service-desc">"修改统一身份认证密码"</span>
                            </a>
                        </li>
                    </ul>
                </section>
            </div>
        </SignedIn>
    }
}
