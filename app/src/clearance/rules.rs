//! The four offices' pass/fail rules and the submit gate, exactly as the source guide
//! states them. Pure functions over plain data: the page shows their verdicts and the
//! server re-runs them inside the submit transaction.

use serde::{Deserialize, Serialize};

use super::model::{
    ArchivesThesisStatus, ClearanceFacts, HousingRecord, LibraryFacts, LibraryThesisStatus,
    Standing,
};

/// The four offices of 离校审核事项, in the order the page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Office {
    Library,
    Archives,
    Housing,
    Finance,
}

impl Office {
    pub const ALL: [Office; 4] = [
        Office::Library,
        Office::Archives,
        Office::Housing,
        Office::Finance,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Office::Library => "图书馆",
            Office::Archives => "档案馆",
            Office::Housing => "总务部公寓与物业中心",
            Office::Finance => "财务资产部收费管理办公室",
        }
    }

    /// The value stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Office::Library => "library",
            Office::Archives => "archives",
            Office::Housing => "housing",
            Office::Finance => "finance",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|office| office.code() == code)
    }

    /// 咨询电话, from the source guide.
    pub fn phone(self) -> &'static str {
        match self {
            Office::Library => "0516-83592058",
            Office::Archives => "0516-83592101",
            Office::Housing => "0516-83590327",
            Office::Finance => "0516-83590233",
        }
    }
}

/// One office's verdict: pass, or not yet with what the student has to do (or wait for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub office: Office,
    /// Empty when the office passes.
    pub todo: Vec<String>,
    /// How the verdict came about (snapshots frozen before this field: from the facts).
    #[serde(default)]
    pub basis: Basis,
    /// For an override: the office's decision and its reason, shown to the student.
    #[serde(default)]
    pub note: Option<String>,
}

/// Where a verdict comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The rules over the office's reported facts.
    #[default]
    Facts,
    /// 待核验: the office has not reported. Not a pass; not the student's failure either.
    Pending,
    /// 不涉及, stated by the office.
    NotApplicable,
    /// Set by the office's staff by hand, with a reason.
    Overridden,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.todo.is_empty()
    }

    pub fn pending(&self) -> bool {
        self.basis == Basis::Pending
    }

    fn from_facts(office: Office, todo: Vec<String>) -> Self {
        Verdict {
            office,
            todo,
            basis: Basis::Facts,
            note: None,
        }
    }

    /// 待核验: the office has not reported on the student.
    pub fn awaiting(office: Office) -> Self {
        Verdict {
            office,
            todo: vec![format!(
                "{}尚未报送您的数据，请耐心等待；如有疑问请致电 {}。",
                office.name(),
                office.phone()
            )],
            basis: Basis::Pending,
            note: None,
        }
    }
}

/// One office's verdict from its standing and its facts: an override decides; a pending
/// office neither passes nor fails; 不涉及 passes; reported facts go through the rules.
pub fn verdict(office: Office, facts: &ClearanceFacts) -> Verdict {
    let state = facts.states.get(office);
    if let Some(decision) = &state.overridden {
        let outcome = if decision.pass { "通过" } else { "未通过" };
        let note = format!("{}核定{}：{}", office.name(), outcome, decision.reason);
        return Verdict {
            office,
            todo: if decision.pass {
                vec![]
            } else {
                vec![format!("如有疑问请联系{}。", office.name())]
            },
            basis: Basis::Overridden,
            note: Some(note),
        };
    }
    match state.standing {
        Standing::Pending => Verdict::awaiting(office),
        Standing::NotApplicable => Verdict {
            office,
            todo: vec![],
            basis: Basis::NotApplicable,
            note: None,
        },
        Standing::Reported => match office {
            Office::Library => match &facts.library {
                Some(library) => self::library(Some(library)),
                None => Verdict::awaiting(office),
            },
            Office::Archives => archives(facts.archives),
            Office::Housing => match &facts.housing {
                Some(record) => housing(Some(record)),
                None => Verdict::awaiting(office),
            },
            Office::Finance => finance(&facts.arrears),
        },
    }
}

/// 图书馆 passes with no books out, nothing owed, no violations, the card cancelled
/// and the thesis record approved (审核通过: the text rules over figure 6).
pub fn library(facts: Option<&LibraryFacts>) -> Verdict {
    let mut todo = Vec::new();
    match facts {
        None => return Verdict::awaiting(Office::Library),
        Some(facts) => {
            if facts.books_out > 0 {
                todo.push(format!("请归还未还图书（{} 册）。", facts.books_out));
            }
            if !facts.fines.is_zero() {
                todo.push(format!(
                    "请缴清图书馆欠款 {} 元。",
                    super::model::yuan(facts.fines)
                ));
            }
            if facts.violations > 0 {
                todo.push(format!(
                    "请到图书馆处理违章记录（{} 条）。",
                    facts.violations
                ));
            }
            if !facts.card_cancelled {
                todo.push(if card_cancellation(facts).is_ok() {
                    "请点击“注销”按钮注销借书证。".to_owned()
                } else {
                    "还清图书、欠款和违章后，请注销借书证。".to_owned()
                });
            }
            match facts.thesis {
                LibraryThesisStatus::Approved => {}
                LibraryThesisStatus::NotSubmitted => {
                    todo.push("请向图书馆提交学位论文。".to_owned())
                }
                LibraryThesisStatus::Submitted => {
                    todo.push("图书馆正在审核您提交的论文，审核通过后即显示通过。".to_owned())
                }
                LibraryThesisStatus::Rejected => {
                    todo.push("论文提交记录审核未通过，请联系图书馆重新提交。".to_owned())
                }
            }
        }
    }
    Verdict::from_facts(Office::Library, todo)
}

/// 档案馆 passes when the thesis status is 已审核; empty means the thesis is not there yet.
pub fn archives(status: Option<ArchivesThesisStatus>) -> Verdict {
    let todo = match status {
        Some(ArchivesThesisStatus::Reviewed) => vec![],
        Some(ArchivesThesisStatus::Submitted) => {
            vec!["档案馆正在审核您的论文，审核后即显示通过。".to_owned()]
        }
        None => vec!["请线下去档案馆提交论文。".to_owned()],
    };
    Verdict::from_facts(Office::Archives, todo)
}

/// 总务部公寓与物业中心 passes once the checkout is recorded (date and handler). A student
/// who never lived on campus passes by housing's explicit 不涉及 (see [`verdict`]), not
/// by a missing record: no record is 待核验.
pub fn housing(record: Option<&HousingRecord>) -> Verdict {
    let Some(record) = record else {
        return Verdict::awaiting(Office::Housing);
    };
    let checked_out = record.checked_out_on.is_some() && record.checked_out_by.is_some();
    let todo = if checked_out {
        vec![]
    } else {
        vec!["请在各宿舍公寓管理员处办理退宿。".to_owned()]
    };
    Verdict::from_facts(Office::Housing, todo)
}

/// 财务资产部收费管理办公室 passes when there are no arrears rows.
pub fn finance(arrears: &[super::model::Arrear]) -> Verdict {
    let todo = if arrears.is_empty() {
        vec![]
    } else {
        vec![format!(
            "您有欠款 {} 元，请办理交费业务。",
            super::model::yuan(super::model::total_arrears(arrears))
        )]
    };
    Verdict::from_facts(Office::Finance, todo)
}

/// The four verdicts, in page order.
pub fn verdicts(facts: &ClearanceFacts) -> [Verdict; 4] {
    Office::ALL.map(|office| verdict(office, facts))
}

/// The submit gate: open only when all four offices pass; otherwise the failing offices.
pub fn gate(verdicts: &[Verdict]) -> Result<(), Vec<Office>> {
    let failing: Vec<Office> = verdicts
        .iter()
        .filter(|verdict| !verdict.passed())
        .map(|verdict| verdict.office)
        .collect();
    if failing.is_empty() {
        Ok(())
    } else {
        Err(failing)
    }
}

/// Why the library card cannot be cancelled yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardRefusal {
    AlreadyCancelled,
    Outstanding(Vec<String>),
}

/// Self-service cancellation (注销) is allowed only with no books out, no fines and no violations.
pub fn card_cancellation(facts: &LibraryFacts) -> Result<(), CardRefusal> {
    if facts.card_cancelled {
        return Err(CardRefusal::AlreadyCancelled);
    }
    let mut outstanding = Vec::new();
    if facts.books_out > 0 {
        outstanding.push(format!("尚有 {} 册图书未还", facts.books_out));
    }
    if !facts.fines.is_zero() {
        outstanding.push(format!("尚有欠款 {} 元", super::model::yuan(facts.fines)));
    }
    if facts.violations > 0 {
        outstanding.push(format!("尚有 {} 条违章记录", facts.violations));
    }
    if outstanding.is_empty() {
        Ok(())
    } else {
        Err(CardRefusal::Outstanding(outstanding))
    }
}

impl CardRefusal {
    /// The refusal as the student reads it: the reason and the library's phone.
    pub fn message(&self) -> String {
        match self {
            CardRefusal::AlreadyCancelled => "借书证已注销，无需重复操作。".to_owned(),
            CardRefusal::Outstanding(reasons) => format!(
                "无法注销借书证：{}。请先处理，如有疑问请致电图书馆 {}。",
                reasons.join("，"),
                Office::Library.phone()
            ),
        }
    }
}

/// The message for a submission the gate refuses, naming the failing offices.
/// Failing offices and pending ones are named apart: waiting for an office's data is not
/// the student's failure.
pub fn gate_refusal_message(verdicts: &[Verdict]) -> String {
    let names = |pending: bool| -> Vec<&str> {
        verdicts
            .iter()
            .filter(|verdict| !verdict.passed() && verdict.pending() == pending)
            .map(|verdict| verdict.office.name())
            .collect()
    };
    let (failing, pending) = (names(false), names(true));
    let mut message = String::new();
    if !failing.is_empty() {
        message.push_str(&format!(
            "以下事项未通过，暂不能提交离校流程：{}。",
            failing.join("、")
        ));
    }
    if !pending.is_empty() {
        message.push_str(&format!(
            "以下部门尚未报送您的数据（待核验），暂不能提交离校流程：{}。",
            pending.join("、")
        ));
    }
    message
}
