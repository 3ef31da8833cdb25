import Foundation
import Testing

@testable import DRCore

@Suite struct RestoreDecisionTests {
    static func volume(onMissing: RestoreConfig.MissingBackupAction = .fresh) -> RestoreConfig.Volume {
        RestoreConfig.Volume(
            name: "app-data", pvcNamespace: "app", pvcName: "app-data", size: ByteQuantity(bytes: 1 << 30), replicas: 3,
            storageClass: "longhorn", fsType: .ext4, accessMode: .readWriteOnce, restore: .latest, onMissingBackup: onMissing)
    }
    static let backup = BackupReference(name: "backup-1", url: "s3://b@r/?backup=backup-1&volume=app-data", snapshotCreatedAt: nil, volumeSize: 1 << 30)
    static let synced = VolumeObservation.Target.synced(at: Date(timeIntervalSince1970: 0))

    static func observe(exists: Bool = false, skip: Bool = false, target: VolumeObservation.Target = synced, backups: VolumeObservation.Backups)
        -> VolumeObservation
    {
        VolumeObservation(longhornVolumeExists: exists, skipFlagSet: skip, target: target, backups: backups)
    }

    @Test func theTable() {
        let v = Self.volume()
        #expect(RestoreDecider.decide(v, Self.observe(exists: true, backups: .found(Self.backup)), pastSyncDeadline: false) == .keepExisting)
        #expect(RestoreDecider.decide(v, Self.observe(skip: true, backups: .found(Self.backup)), pastSyncDeadline: false).code == "fresh")
        #expect(RestoreDecider.decide(v, Self.observe(backups: .found(Self.backup)), pastSyncDeadline: false) == .restore(Self.backup))
        #expect(RestoreDecider.decide(v, Self.observe(backups: .confirmedNone), pastSyncDeadline: false).code == "fresh")
    }

    @Test func anUnsyncedTargetNeverMeansNoBackup() {
        let v = Self.volume()
        let unsynced = Self.observe(target: .notReady("BackupTarget default not available"), backups: .confirmedNone)
        #expect(RestoreDecider.decide(v, unsynced, pastSyncDeadline: false).code == "wait")
        #expect(RestoreDecider.decide(v, unsynced, pastSyncDeadline: true).code == "fail")
        let bvUnsynced = Self.observe(backups: .notSynced("BackupVolume not synced"))
        #expect(RestoreDecider.decide(v, bvUnsynced, pastSyncDeadline: false).code == "wait")
        #expect(RestoreDecider.decide(v, bvUnsynced, pastSyncDeadline: true).code == "fail")
    }

    @Test func missingBackupFailsWhenTheVolumeSaysSo() {
        #expect(RestoreDecider.decide(Self.volume(onMissing: .fail), Self.observe(backups: .confirmedNone), pastSyncDeadline: false).code == "fail")
        #expect(RestoreDecider.decide(Self.volume(), Self.observe(backups: .noMatch("backup pinned-1 does not exist")), pastSyncDeadline: false).code == "fail")
    }
}

@Suite struct ExerciseJournalTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func finished(upTo last: ExercisePhase, matched: Bool = true) -> ExerciseJournal {
        var journal = ExerciseJournal(runID: "r1", cluster: "dev", startedAt: t0)
        journal.clusterFingerprint = "kube-system=fp"
        var time = t0
        for phase in ExercisePhase.allCases {
            journal.begin(phase, at: time)
            time += 60
            var evidence: [String: String] = [:]
            if phase == .backup { evidence = ["state": "Completed", "snapshotCreatedAt": "2027-01-15T08:00:30Z"] }
            if phase == .verify { evidence = ["sentinelMatch": matched ? "true" : "false"] }
            journal.complete(phase, at: time, message: "done", evidence: evidence)
            if phase == last { break }
        }
        return journal
    }

    @Test func resumeContinuesAfterTheLastCompletedPhase() throws {
        let journal = Self.finished(upTo: .destroy)
        #expect(journal.nextPhase == .rebuild)
        let decoded = try ExerciseJournal.decode(try journal.encoded())
        #expect(decoded == journal)
    }

    @Test func destroyNeedsEveryPrecondition() {
        let ready = Self.finished(upTo: .verifyBackupInStore)
        #expect(DestroyGate.problems(journal: ready, currentFingerprint: "kube-system=fp", operatorConfirmed: true).isEmpty)
        #expect(DestroyGate.problems(journal: ready, currentFingerprint: "kube-system=other", operatorConfirmed: true).count == 1)
        #expect(DestroyGate.problems(journal: ready, currentFingerprint: nil, operatorConfirmed: true).count == 1, "an unreadable uid is no match")
        #expect(
            DestroyGate.problems(journal: ready, currentFingerprint: "https://10.0.0.9:6443 kube-system=fp", operatorConfirmed: true).isEmpty,
            "the same cluster by another address")
        #expect(DestroyGate.problems(journal: ready, currentFingerprint: "kube-system=fp", operatorConfirmed: false).count == 1)
        let unverified = Self.finished(upTo: .backup)
        #expect(
            DestroyGate.problems(journal: unverified, currentFingerprint: "kube-system=fp", operatorConfirmed: true).contains {
                $0.contains("read back from the store")
            })
        var errored = Self.finished(upTo: .verifyBackupInStore)
        errored.phases[.backup]?.evidence["state"] = "Error"
        #expect(!DestroyGate.problems(journal: errored, currentFingerprint: "kube-system=fp", operatorConfirmed: true).isEmpty)
    }

    @Test func reportPassesOnlyOnAMatchedSentinel() {
        let budgets = ExerciseConfig.Budgets(total: .seconds(2700), phases: ExerciseConfig.Defaults.phases)
        let pass = ExerciseReport(journal: Self.finished(upTo: .report), budgets: budgets, finishedAt: Self.t0 + 600)
        #expect(pass.verdict == .pass && pass.exitStatus == .ok)
        #expect(pass.recoveryTime == .seconds(3 * 60), "rebuild start to verify end: rebuild, wait-ready, verify")
        #expect(pass.destroyTime == .seconds(60), "destroy is reported apart")
        #expect(pass.recoveryPoint != nil)
        let mismatch = ExerciseReport(journal: Self.finished(upTo: .report, matched: false), budgets: budgets, finishedAt: Self.t0 + 600)
        #expect(mismatch.verdict == .fail)

        var failed = Self.finished(upTo: .waitReady)
        failed.begin(.verify, at: Self.t0 + 1000)
        failed.fail(.verify, at: Self.t0 + 1010, reason: "verification-failed", message: "sentinel sha256 differs")
        let report = ExerciseReport(journal: failed, budgets: budgets, finishedAt: Self.t0 + 1010)
        #expect(report.verdict == .fail && report.exitStatus == .verificationFailed)
        #expect(report.junitXML().contains("<failure type=\"verification-failed\""))
        #expect(report.markdown().contains("| verify | failed |"))
        var multiline = Self.finished(upTo: .waitReady)
        multiline.begin(.verify, at: Self.t0 + 1000)
        multiline.fail(.verify, at: Self.t0 + 1010, reason: "error", message: "Job failed; its log ends:\nline one | two\nline three")
        let markdown = ExerciseReport(journal: multiline, budgets: budgets, finishedAt: Self.t0 + 1010).markdown()
        let row = markdown.split(separator: "\n").first { $0.hasPrefix("| verify |") }
        #expect(row?.hasSuffix("Job failed; its log ends:<br>line one \\| two<br>line three |") == true, "one table row: \(markdown)")
        #expect(report.json().contains("\"verdict\" : \"FAIL\""))
        #expect(report.consoleText().contains("FAIL verify"))

        let stopped = ExerciseReport(journal: Self.finished(upTo: .setup), budgets: budgets, finishedAt: Self.t0 + 100)
        #expect(stopped.verdict == .incomplete && stopped.exitStatus == .infrastructure)
    }

    @Test func securityWarningsFromPreflightReachEveryRendering() throws {
        let budgets = ExerciseConfig.Budgets(total: .seconds(2700), phases: ExerciseConfig.Defaults.phases)
        var journal = Self.finished(upTo: .report)
        journal.phases[.preflight]?.evidence[ExerciseReport.securityWarnings] = "warning: plain http\nwarning: insecure-skip-tls-verify"
        let report = ExerciseReport(journal: journal, budgets: budgets, finishedAt: Self.t0 + 600)
        #expect(report.warnings == ["warning: plain http", "warning: insecure-skip-tls-verify"])
        #expect(report.verdict == .pass, "a warning does not change the verdict")
        #expect(report.consoleText().contains("  warning: insecure-skip-tls-verify"))
        #expect(report.markdown().contains("- **Security:** warning: plain http"))
        let json = try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any]
        #expect(json?["warnings"] as? [String] == report.warnings)
        let clean = ExerciseReport(journal: Self.finished(upTo: .report), budgets: budgets, finishedAt: Self.t0 + 600)
        #expect(clean.warnings.isEmpty && !clean.markdown().contains("Security"))
    }

    @Test func metricsAndNotificationCarryTheVerdictAndFigures() throws {
        let budgets = ExerciseConfig.Budgets(total: .seconds(2700), phases: ExerciseConfig.Defaults.phases)
        let pass = ExerciseReport(journal: Self.finished(upTo: .report), budgets: budgets, finishedAt: Self.t0 + 600)
        let text = pass.prometheusText(finishedAt: Self.t0 + 600)
        #expect(text.contains("longhorn_dr_exercise_success{cluster=\"\(pass.cluster)\"} 1"))
        #expect(text.contains("longhorn_dr_exercise_rto_seconds{cluster=\"\(pass.cluster)\"} 180.000"))
        #expect(text.contains("longhorn_dr_exercise_last_run_timestamp_seconds{cluster=\"\(pass.cluster)\"} \(Int((Self.t0 + 600).timeIntervalSince1970))"))
        #expect(text.contains("longhorn_dr_exercise_destroy_seconds{cluster=\"\(pass.cluster)\"} 60.000"))
        #expect(!text.contains("scheduled_rpo_seconds{"), "no recurring-job backup, no figure")
        #expect(text.components(separatedBy: "# TYPE ").count - 1 == 7, "one TYPE line per metric family")
        let body = try JSONSerialization.jsonObject(with: pass.notificationJSON()) as? [String: Any]
        #expect(body?["verdict"] as? String == "PASS" && body?["rtoMillis"] as? Int == 180_000)

        let stopped = ExerciseReport(journal: Self.finished(upTo: .setup), budgets: budgets, finishedAt: Self.t0 + 100)
        let failed = stopped.prometheusText(finishedAt: Self.t0 + 100)
        #expect(failed.contains("} 0\n") && !failed.contains("longhorn_dr_exercise_rto_seconds{"), "no RTO for a run that never recovered")
        #expect(ExerciseReport.labelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
    }
}
