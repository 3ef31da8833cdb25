import Foundation

/// The outcome of an exercise, derived from its journal: verdict, per-phase timings, RTO and RPO.
public struct ExerciseReport: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        case pass = "PASS"
        case fail = "FAIL"
        case incomplete = "INCOMPLETE"
    }

    public struct PhaseLine: Sendable, Equatable {
        public var phase: ExercisePhase
        public var outcome: String
        public var duration: Duration?
        public var budget: Duration
        public var reason: String
        public var message: String
    }

    /// One volume's result: PASS only when its own sentinel came back byte for byte.
    public struct VolumeLine: Sendable, Equatable {
        public var volume: String
        /// PASS, FAIL, or "not verified" (the run stopped before this volume's verdict).
        public var verdict: String
        public var backup: String
        public var restoredFrom: String
        public var message: String
    }

    public var runID: String
    public var cluster: String
    public var verdict: Verdict
    public var phases: [PhaseLine]
    /// From the start of the rebuild until the data was verified back: the recovery time.
    public var recoveryTime: Duration?
    /// How long tearing the old cluster down took (apart from RTO: a real disaster does not wait for it).
    public var destroyTime: Duration?
    /// How old the restored data was at the moment of destruction: the recovery point.
    public var recoveryPoint: Duration?
    /// How old the newest backup a recurring job had made was when destroy started: the recovery
    /// point a real disaster would have seen. `nil` when the volume has no scheduled backup.
    public var scheduledRecoveryPoint: Duration?
    /// Wall time from the first start to the end, gaps between resumed invocations included.
    public var total: Duration?
    /// Time spent in phases (what the target is compared with).
    public var activeTime: Duration
    /// What the exercise should take (`budgets.target`); reported, not enforced.
    public var target: Duration
    /// How many times the run was resumed.
    public var resumes: Int
    public var failure: String?
    /// Where the forensics bundle of a run that did not PASS was written (`ForensicsBundle`).
    public var forensics: String?
    /// What the run's way of reaching the cluster or the store gave away (plain http, no
    /// certificate checks): the exercise went on, and the reader of its report should know.
    public var warnings: [String]
    /// Per volume, in config order (empty for journals with one volume per exercise).
    public var volumes: [VolumeLine]

    public var targetMet: Bool { activeTime <= target }

    /// The reason of a phase the operator stopped (Ctrl-C, SIGTERM).
    public static let interrupted = "interrupted"
    /// Destroy-mark evidence: when the newest backup made by a recurring job was taken.
    public static let newestScheduledBackupAt = "newestScheduledBackupAt"
    /// Preflight evidence: security warnings, one per line.
    public static let securityWarnings = "securityWarnings"

    public init(journal: ExerciseJournal, budgets: ExerciseConfig.Budgets, finishedAt: Date) {
        runID = journal.runID
        cluster = journal.cluster
        phases = ExercisePhase.allCases.map { phase in
            let record = journal.phases[phase]
            return PhaseLine(
                phase: phase, outcome: record?.outcome.rawValue ?? "not run", duration: record?.duration,
                budget: budgets.budget(for: phase), reason: record?.reason ?? "", message: record?.message ?? "")
        }
        let failed = ExercisePhase.allCases.first { journal.phases[$0]?.outcome == .failed }
        let sentinelMatched = journal.evidence(.verify, "sentinelMatch") == "true"
        if let failed, journal.phases[failed]?.reason == Self.interrupted {
            // Stopped by the operator: nothing was proven either way, and --resume continues.
            verdict = .incomplete
            failure = "\(failed): \(journal.phases[failed]?.message ?? "")"
        } else if let failed {
            verdict = .fail
            failure = "\(failed): \(journal.phases[failed]?.message ?? "")"
        } else if journal.nextPhase == nil || (journal.nextPhase == .report && sentinelMatched) {
            verdict = sentinelMatched ? .pass : .fail
            if !sentinelMatched { failure = "verify: the sentinel was not confirmed byte for byte" }
        } else {
            verdict = .incomplete
            failure = journal.nextPhase.map { "stopped before \($0)" }
        }
        if let rebuildStart = journal.phases[.rebuild]?.startedAt, let verified = journal.phases[.verify]?.finishedAt,
            journal.phases[.verify]?.outcome == .completed
        {
            recoveryTime = Self.duration(from: rebuildStart, to: verified)
        }
        if journal.phases[.destroy]?.outcome == .completed { destroyTime = journal.phases[.destroy]?.duration }
        let destroyStart = journal.destroyStarted?.at ?? journal.phases[.destroy]?.startedAt
        if let destroyStart, let snapshotTime = journal.evidence(.backup, "snapshotCreatedAt").flatMap(Self.parseDate) {
            recoveryPoint = Self.duration(from: snapshotTime, to: destroyStart)
        }
        if let destroyStart, let scheduled = journal.destroyStarted?.evidence[Self.newestScheduledBackupAt].flatMap(Self.parseDate) {
            scheduledRecoveryPoint = Self.duration(from: scheduled, to: destroyStart)
        }
        total = Self.duration(from: journal.startedAt, to: finishedAt)
        activeTime = journal.phases.values.compactMap(\.duration).reduce(.zero, +)
        target = budgets.target
        resumes = journal.resumedAt?.count ?? 0
        warnings = journal.evidence(.preflight, Self.securityWarnings)?.split(separator: "\n").map(String.init) ?? []
        volumes = (journal.volumes ?? []).map { volume in
            let backup = journal.evidence(.backup, "backup", volume: volume) ?? ""
            let restoredFrom = journal.evidence(.waitReady, "restoredFrom", volume: volume) ?? ""
            if let failure = journal.failure(of: volume) {
                return VolumeLine(
                    volume: volume, verdict: "FAIL", backup: backup, restoredFrom: restoredFrom,
                    message: "\(failure.phase.rawValue): \(failure.message)")
            }
            if journal.phases[.verify]?.volumes?[volume]?["sentinelMatch"] == "true" {
                return VolumeLine(
                    volume: volume, verdict: "PASS", backup: backup, restoredFrom: restoredFrom,
                    message: "sentinel matches byte for byte")
            }
            return VolumeLine(
                volume: volume, verdict: "not verified", backup: backup, restoredFrom: restoredFrom,
                message: journal.nextPhase.map { "the run stopped before \($0.rawValue)" } ?? "")
        }
    }

    static func duration(from start: Date, to end: Date) -> Duration {
        .milliseconds(Int64((end.timeIntervalSince(start) * 1000).rounded()))
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// A phase failed or was interrupted, or the verdict is FAIL; false for PASS and for a run
    /// that stopped where it was told to (`--only`).
    public var somethingFailed: Bool {
        verdict == .fail || phases.contains { $0.outcome == "failed" }
    }

    /// The exit code the CLI ends with.
    public var exitStatus: ExitStatus {
        switch verdict {
        case .pass: .ok
        case .fail:
            if phases.contains(where: { $0.outcome == "failed" && ($0.phase == .verify || $0.reason == "verification-failed") }) {
                .verificationFailed
            }
            // A missing precondition outside the tool (a tool, root or user namespaces): exit 3.
            else if phases.contains(where: { $0.outcome == "failed" && $0.reason == "environment" }) {
                .environment
            } else {
                .infrastructure
            }
        case .incomplete: .infrastructure
        }
    }

    // MARK: - Renderings

    public static func text(_ duration: Duration?) -> String { duration.map(DurationText.format) ?? "-" }

    public func consoleText() -> String {
        var lines = ["DR exercise \(runID) on cluster \(cluster): \(verdict.rawValue)"]
        for line in phases {
            let mark = line.outcome == "completed" ? "ok  " : line.outcome == "failed" ? "FAIL" : "--  "
            var text =
                "  \(mark) \(line.phase.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)) \(Self.text(line.duration).padding(toLength: 9, withPad: " ", startingAt: 0)) (budget \(DurationText.format(line.budget)))"
            if !line.message.isEmpty { text += "  \(line.message)" }
            lines.append(text)
        }
        lines.append(
            "  RTO \(Self.text(recoveryTime)) (rebuild → verified)   destroy \(Self.text(destroyTime))   RPO \(Self.text(recoveryPoint))   scheduled RPO \(scheduledRPOText)"
        )
        lines.append(
            "  total \(Self.text(total)), in phases \(Self.text(activeTime)) (target \(DurationText.format(target)): \(targetMet ? "met" : "missed"))\(resumes > 0 ? ", resumed \(resumes)×" : "")"
        )
        for volume in volumes {
            lines.append(
                "  volume \(volume.volume): \(volume.verdict)  backup \(volume.backup.isEmpty ? "-" : volume.backup), restored from \(volume.restoredFrom.isEmpty ? "-" : volume.restoredFrom)  \(volume.message)"
            )
        }
        if let failure { lines.append("  failure: \(failure)") }
        if let forensics { lines.append("  forensics: \(forensics)") }
        lines += warnings.map { "  \($0)" }
        return lines.joined(separator: "\n")
    }

    var scheduledRPOText: String {
        scheduledRecoveryPoint.map(DurationText.format) ?? "- (no recurring-job backup)"
    }

    public func json() -> String {
        func millis(_ duration: Duration?) -> Any { duration.map { Int($0.milliseconds) } ?? NSNull() }
        let object: [String: Any] = [
            "runID": runID, "cluster": cluster, "verdict": verdict.rawValue, "failure": failure ?? NSNull(), "forensics": forensics ?? NSNull(),
            "rtoMillis": millis(recoveryTime), "rpoMillis": millis(recoveryPoint), "totalMillis": millis(total),
            "destroyMillis": millis(destroyTime), "scheduledRpoMillis": millis(scheduledRecoveryPoint),
            "activeMillis": millis(activeTime), "targetMillis": millis(target), "targetMet": targetMet, "resumes": resumes, "warnings": warnings,
            "volumes": volumes.map {
                ["volume": $0.volume, "verdict": $0.verdict, "backup": $0.backup, "restoredFrom": $0.restoredFrom, "message": $0.message]
            },
            "phases": phases.map { line -> [String: Any] in
                [
                    "phase": line.phase.rawValue, "outcome": line.outcome, "durationMillis": millis(line.duration),
                    "budgetMillis": Int(line.budget.milliseconds), "reason": line.reason, "message": line.message,
                ]
            },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    public func junitXML() -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let failures = phases.filter { $0.outcome == "failed" }.count + volumes.filter { $0.verdict == "FAIL" }.count
        let skipped =
            phases.filter { $0.outcome != "failed" && $0.outcome != "completed" }.count
            + volumes.filter { $0.verdict != "FAIL" && $0.verdict != "PASS" }.count
        var xml = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<testsuite name=\"dr-exercise \(escape(cluster))\" tests=\"\(phases.count + volumes.count)\" failures=\"\(failures)\" skipped=\"\(skipped)\" time=\"\(seconds(total))\">",
        ]
        for line in phases {
            xml.append("  <testcase classname=\"dr-exercise\" name=\"\(line.phase.rawValue)\" time=\"\(seconds(line.duration))\">")
            if line.outcome == "failed" {
                xml.append("    <failure type=\"\(escape(line.reason))\" message=\"\(escape(line.message))\"/>")
            } else if line.outcome != "completed" {
                xml.append("    <skipped message=\"not run\"/>")
            }
            xml.append("  </testcase>")
        }
        for volume in volumes {
            xml.append("  <testcase classname=\"dr-exercise.volume\" name=\"\(escape(volume.volume))\" time=\"0.000\">")
            if volume.verdict == "FAIL" {
                xml.append("    <failure type=\"volume\" message=\"\(escape(volume.message))\"/>")
            } else if volume.verdict != "PASS" {
                xml.append("    <skipped message=\"\(escape(volume.message))\"/>")
            }
            xml.append("  </testcase>")
        }
        xml.append("</testsuite>")
        return xml.joined(separator: "\n") + "\n"
    }

    private func seconds(_ duration: Duration?) -> String {
        String(format: "%.3f", Double(duration?.milliseconds ?? 0) / 1000)
    }

    /// One line of Markdown: a message with newlines (a Job's log, a hint) or pipes would break
    /// the table row it sits in.
    static func tableCell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r\n", with: "<br>")
            .replacingOccurrences(of: "\n", with: "<br>").replacingOccurrences(of: "\r", with: "<br>")
    }

    public func markdown() -> String {
        var lines = [
            "# DR exercise \(runID): \(verdict.rawValue)", "",
            "Cluster `\(cluster)`. RTO \(Self.text(recoveryTime)) (rebuild start until the data was verified), destroy \(Self.text(destroyTime)), "
                + "RPO \(Self.text(recoveryPoint)), scheduled RPO \(scheduledRPOText), total \(Self.text(total)) "
                + "(in phases \(Self.text(activeTime)), target \(DurationText.format(target)) \(targetMet ? "met" : "missed"))"
                + (resumes > 0 ? ", resumed \(resumes) time(s)" : "") + ".", "",
        ]
        if let failure { lines += ["**Failure:** \(Self.tableCell(failure))", ""] }
        if let forensics { lines += ["**Forensics:** `\(Self.tableCell(forensics))`", ""] }
        if !warnings.isEmpty { lines += warnings.map { "- **Security:** \(Self.tableCell($0))" } + [""] }
        lines += ["| phase | outcome | duration | budget | message |", "| --- | --- | --- | --- | --- |"]
        for line in phases {
            lines.append(
                "| \(line.phase.rawValue) | \(line.outcome) | \(Self.text(line.duration)) | \(DurationText.format(line.budget)) | \(Self.tableCell(line.message)) |"
            )
        }
        if !volumes.isEmpty {
            lines += ["", "| volume | verdict | backup | restored from | detail |", "| --- | --- | --- | --- | --- |"]
            for volume in volumes {
                lines.append(
                    "| \(Self.tableCell(volume.volume)) | \(volume.verdict) | \(Self.tableCell(volume.backup)) | \(Self.tableCell(volume.restoredFrom)) | \(Self.tableCell(volume.message)) |"
                )
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
