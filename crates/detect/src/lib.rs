//! The compiled Sigma rule set: routes events to the rules that can match them and emits alerts.
