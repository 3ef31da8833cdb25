import Foundation

/// The report as the config's `metrics` and `notify` outputs carry it: pure renderings, sent by
/// the CLI's delivery step.
extension ExerciseReport {
    /// Prometheus text exposition (node-exporter textfile collector, Pushgateway): the last run's
    /// verdict, RTO, RPO, total and per-phase durations, labelled with the cluster.
    public func prometheusText(finishedAt: Date) -> String {
        let cluster = "cluster=\"\(Self.labelValue(cluster))\""
        func seconds(_ duration: Duration?) -> String? {
            duration.map { String(format: "%.3f", Double($0.milliseconds) / 1000) }
        }
        var lines = [
            "# HELP longhorn_dr_exercise_success 1 when the last DR exercise passed, else 0.",
            "# TYPE longhorn_dr_exercise_success gauge",
            "longhorn_dr_exercise_success{\(cluster)} \(verdict == .pass ? 1 : 0)",
            "# HELP longhorn_dr_exercise_last_run_timestamp_seconds When the last DR exercise finished.",
            "# TYPE longhorn_dr_exercise_last_run_timestamp_seconds gauge",
            "longhorn_dr_exercise_last_run_timestamp_seconds{\(cluster)} \(Int(finishedAt.timeIntervalSince1970))",
        ]
        for (name, help, value) in [
            ("rto", "Recovery time of the last DR exercise: rebuild start until the data was verified back.", seconds(recoveryTime)),
            ("destroy", "How long the last DR exercise took to destroy the cluster.", seconds(destroyTime)),
            ("rpo", "Recovery point of the last DR exercise: the restored data's age when the cluster was destroyed.", seconds(recoveryPoint)),
            ("scheduled_rpo", "Age of the newest recurring-job backup when the last DR exercise destroyed the cluster.", seconds(scheduledRecoveryPoint)),
            ("duration", "Wall time of the last DR exercise.", seconds(total)),
        ] {
            guard let value else { continue }
            lines += [
                "# HELP longhorn_dr_exercise_\(name)_seconds \(help)", "# TYPE longhorn_dr_exercise_\(name)_seconds gauge",
                "longhorn_dr_exercise_\(name)_seconds{\(cluster)} \(value)",
            ]
        }
        lines += [
            "# HELP longhorn_dr_exercise_phase_duration_seconds Wall time of each phase of the last DR exercise.",
            "# TYPE longhorn_dr_exercise_phase_duration_seconds gauge",
        ]
        for line in phases {
            guard let value = seconds(line.duration) else { continue }
            lines.append("longhorn_dr_exercise_phase_duration_seconds{\(cluster),phase=\"\(line.phase.rawValue)\"} \(value)")
        }
        if !volumes.isEmpty {
            lines += [
                "# HELP longhorn_dr_exercise_volume_success 1 when the volume's data came back byte for byte in the last DR exercise, else 0.",
                "# TYPE longhorn_dr_exercise_volume_success gauge",
            ]
            for volume in volumes {
                lines.append("longhorn_dr_exercise_volume_success{\(cluster),volume=\"\(Self.labelValue(volume.volume))\"} \(volume.verdict == "PASS" ? 1 : 0)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The webhook body: `text` (what Slack, Mattermost, Rocket.Chat and ntfy-style bridges
    /// show) plus the verdict and figures as fields for anything that parses JSON.
    public func notificationJSON() -> Data {
        func millis(_ duration: Duration?) -> Any { duration.map { Int($0.milliseconds) } ?? NSNull() }
        var text = "DR exercise \(runID) on cluster \(cluster): \(verdict.rawValue) (RTO \(Self.text(recoveryTime)), RPO \(Self.text(recoveryPoint)))"
        if let failure { text += "\nfailure: \(failure)" }
        let object: [String: Any] = [
            "text": text, "runID": runID, "cluster": cluster, "verdict": verdict.rawValue, "failure": failure ?? NSNull(),
            "rtoMillis": millis(recoveryTime), "rpoMillis": millis(recoveryPoint), "totalMillis": millis(total),
            "scheduledRpoMillis": millis(scheduledRecoveryPoint), "destroyMillis": millis(destroyTime),
        ]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }

    /// A label value as the exposition format wants it: backslash, quote and newline escaped.
    static func labelValue(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
