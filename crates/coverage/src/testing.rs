//! A small hand-made matrix for unit tests: few enough techniques to reason about by hand.

use crate::model::{
    Analytic, AttackMatrix, Countermeasure, Group, IdStatus, LogSourceNeed, Tactic, Technique,
};

fn tactic(id: &str, shortname: &str, name: &str) -> Tactic {
    Tactic {
        id: id.into(),
        shortname: shortname.into(),
        name: name.into(),
    }
}

fn sysmon(code: &str, component: &str) -> LogSourceNeed {
    LogSourceNeed {
        data_component: component.into(),
        name: "WinEventLog:Sysmon".into(),
        channel: format!("EventCode={code}"),
    }
}

pub(crate) fn small_matrix() -> AttackMatrix {
    let mut matrix = AttackMatrix {
        domain: "enterprise-attack".into(),
        attack_version: "18.1".into(),
        tactics: vec![
            tactic("TA0002", "execution", "Execution"),
            tactic("TA0003", "persistence", "Persistence"),
            tactic("TA0004", "privilege-escalation", "Privilege Escalation"),
            tactic("TA0005", "defense-evasion", "Defense Evasion"),
            tactic("TA0006", "credential-access", "Credential Access"),
        ],
        ..AttackMatrix::default()
    };
    let specs: [(&str, &str, &[&str]); 9] = [
        ("T1059", "Command and Scripting Interpreter", &["execution"]),
        ("T1059.001", "PowerShell", &["execution"]),
        ("T1059.003", "Windows Command Shell", &["execution"]),
        (
            "T1053",
            "Scheduled Task/Job",
            &["execution", "persistence", "privilege-escalation"],
        ),
        (
            "T1053.005",
            "Scheduled Task",
            &["execution", "persistence", "privilege-escalation"],
        ),
        ("T1003", "OS Credential Dumping", &["credential-access"]),
        ("T1003.001", "LSASS Memory", &["credential-access"]),
        (
            "T1547",
            "Boot or Logon Autostart Execution",
            &["persistence", "privilege-escalation"],
        ),
        ("T1070", "Indicator Removal", &["defense-evasion"]),
    ];
    for (id, name, tactics) in specs {
        let mut technique = Technique::new(id, name, tactics);
        technique.platforms = vec!["Windows".into()];
        if id == "T1059" || id == "T1059.003" {
            technique.platforms.push("Linux".into());
        }
        technique.analytics = vec![Analytic {
            id: format!("AN-{id}"),
            platforms: vec!["Windows".into()],
            log_sources: vec![if id.starts_with("T1003") {
                sysmon("10", "Process Access")
            } else {
                sysmon("1", "Process Creation")
            }],
        }];
        if id == "T1003.001" {
            technique.countermeasures = vec![Countermeasure {
                id: "D3-PSA".into(),
                name: "Process Spawn Analysis".into(),
                tactic: "Detect".into(),
            }];
        }
        matrix.insert_technique(technique);
    }
    matrix.groups = vec![
        Group {
            id: "G0016".into(),
            name: "APT29".into(),
            aliases: vec!["Cozy Bear".into()],
            techniques: vec!["T1059.001".into(), "T1003.001".into()],
        },
        Group {
            id: "G0046".into(),
            name: "FIN7".into(),
            aliases: vec![],
            techniques: vec!["T1053.005".into(), "T1547".into()],
        },
        Group {
            id: "G0007".into(),
            name: "APT28".into(),
            aliases: vec![],
            techniques: vec!["T1053.005".into(), "T1070".into()],
        },
    ];
    matrix.retired.insert(
        "T1086".into(),
        IdStatus::Revoked {
            replacement: Some("T1059.001".into()),
        },
    );
    matrix.retired.insert("T1064".into(), IdStatus::Deprecated);
    matrix
}
