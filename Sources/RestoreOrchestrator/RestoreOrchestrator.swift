import DRCore
import Foundation

/// Brings every declared well-known volume back before workloads start (DESIGN.md): restore from
/// the chosen backup, fresh only when certain there is none, never a silently empty volume.
/// Volumes are handled concurrently; one stuck volume is reported, never allowed to hide others.
public struct RestoreOrchestrator: Sendable {
    public let config: RestoreConfig
    public let port: any RestorePort
    public let now: @Sendable () -> Date
    public let log: @Sendable (String) -> Void

    public init(
        config: RestoreConfig, port: any RestorePort, now: @escaping @Sendable () -> Date = { Date() },
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.config = config
        self.port = port
        self.now = now
        self.log = log
    }

    /// Runs the whole plan and publishes the result (Events, status ConfigMap); the outcomes are
    /// in config order. A dry run decides every volume the same way but creates nothing and
    /// publishes nothing: its only write is the backup target's sync request, which Longhorn
    /// honours like its own periodic sync.
    public func run(dryRun: Bool = false) async -> [VolumeOutcome] {
        let started = now()
        log(
            "restore orchestrator\(dryRun ? " (dry run: nothing is created)" : ""): \(config.volumes.count) volume(s), backup target \(config.backupTarget), sync timeout \(DurationText.format(config.syncTimeout))"
        )
        let skip: Bool
        do {
            skip = try await port.skipFlagSet(config.skipFlag)
        } catch {
            let reason = "cannot read the skip flag \(config.skipFlag.namespace)/\(config.skipFlag.configMap): \(error)"
            return config.volumes.map {
                VolumeOutcome(volume: $0.name, decision: "fail", backup: nil, backupAge: nil, duration: .zero, succeeded: false, message: reason)
            }
        }
        if skip { log("skip flag \(config.skipFlag.configMap).\(config.skipFlag.key) is true: volumes start fresh") }
        var target: VolumeObservation.Target = .notReady("not checked")
        var syncedAfter = started
        if !skip, !config.volumes.isEmpty {
            (syncedAfter, target) = await waitForTarget(started: started)
        }
        let fixedTarget = target
        let fixedSyncedAfter = syncedAfter
        var outcomes: [Int: VolumeOutcome] = [:]
        await withTaskGroup(of: (Int, VolumeOutcome).self) { group in
            var next = 0
            func startNext() {
                guard next < config.volumes.count else { return }
                let index = next
                let volume = config.volumes[index]
                next += 1
                group.addTask {
                    (index, await self.handle(volume, skip: skip, target: fixedTarget, syncedAfter: fixedSyncedAfter, dryRun: dryRun))
                }
            }
            for _ in 0..<min(config.concurrency, config.volumes.count) { startNext() }
            for await (index, outcome) in group {
                outcomes[index] = outcome
                log(outcome.line)
                startNext()
            }
        }
        let ordered = config.volumes.indices.compactMap { outcomes[$0] }
        guard !dryRun else { return ordered }
        let report = RestoreReport(
            startedAt: started, finishedAt: now(), outcomes: ordered,
            namespace: config.longhornNamespace, configMap: config.statusConfigMap)
        do {
            try await port.publish(report)
            log("status recorded in ConfigMap \(report.namespace)/\(report.configMap) and as Events on the volumes")
        } catch {
            // The volumes are what the Job is for; a missing status must not turn a good restore
            // into a failed gate, but it must be visible.
            log("warning: could not record the status in ConfigMap \(report.namespace)/\(report.configMap) or the Events: \(error)")
        }
        return ordered
    }

    /// Waits for Longhorn and the target, asks for a sync and waits for it, all within the sync timeout.
    func waitForTarget(started: Date) async -> (Date, VolumeObservation.Target) {
        log("waiting ≤ \(DurationText.format(config.syncTimeout)) for Longhorn and backup target \(config.backupTarget) to sync")
        do {
            let (requested, state) = try await port.waitForTarget(config.backupTarget, timeout: config.syncTimeout)
            return (min(requested, started), state)
        } catch {
            return (started, .notReady("\(error)"))
        }
    }

    func handle(_ volume: RestoreConfig.Volume, skip: Bool, target: VolumeObservation.Target, syncedAfter: Date, dryRun: Bool) async -> VolumeOutcome {
        let begin = now()
        func outcome(_ decision: RestoreDecision, backup: BackupReference? = nil, ok: Bool, _ message: String) -> VolumeOutcome {
            let age = backup?.snapshotCreatedAt.map { Duration.milliseconds(Int64((now().timeIntervalSince($0) * 1000).rounded())) }
            return VolumeOutcome(
                volume: volume.name, decision: decision.code, backup: backup?.name, backupAge: age,
                duration: .milliseconds(Int64((now().timeIntervalSince(begin) * 1000).rounded())), succeeded: ok, message: message)
        }
        do {
            let exists = try await port.longhornVolumeExists(volume.name)
            let backups: VolumeObservation.Backups
            if exists || skip {
                backups = .confirmedNone
            } else if case .synced = target {
                backups = try await port.findBackup(for: volume, target: config.backupTarget, syncedAfter: syncedAfter, timeout: config.syncTimeout)
            } else {
                backups = .notSynced("the backup target is not synced")
            }
            let observation = VolumeObservation(longhornVolumeExists: exists, skipFlagSet: skip, target: target, backups: backups)
            // The target wait already used the sync timeout, so nothing is left to wait for.
            let decision = RestoreDecider.decide(volume, observation, pastSyncDeadline: true)
            let claim = "\(volume.pvcNamespace)/\(volume.pvcName)"
            switch decision {
            case .keepExisting:
                if dryRun { return outcome(decision, ok: true, "would keep the existing Longhorn volume and ensure its PV for \(claim)") }
                try await port.settleExisting(volume.name, timeout: config.restoreTimeout) { state in
                    self.log("  \(volume.name): \(state)")
                }
                try await port.ensurePersistentVolume(volume)
                return outcome(decision, ok: true, "the Longhorn volume exists; PV ensured")
            case .provisionFresh(let reason):
                if dryRun { return outcome(decision, ok: true, "would create an empty volume and its PV for \(claim): \(reason)") }
                try await port.createFresh(volume, target: config.backupTarget, timeout: config.restoreTimeout)
                try await port.ensurePersistentVolume(volume)
                return outcome(decision, ok: true, reason)
            case .restore(let backup):
                if dryRun { return outcome(decision, backup: backup, ok: true, "would restore from \(backup.name) and pre-bind a PV to \(claim)") }
                log("restoring \(volume.name) from \(backup.name) (waiting ≤ \(DurationText.format(config.restoreTimeout)))")
                try await port.restore(volume, from: backup, timeout: config.restoreTimeout) { state in
                    self.log("  \(volume.name): \(state)")
                }
                try await port.ensurePersistentVolume(volume)
                return outcome(decision, backup: backup, ok: true, "restored; PV pre-bound to \(claim)")
            case .wait(let reason), .fail(let reason):
                return outcome(.fail(reason: reason), ok: false, dryRun ? "would fail: \(reason)" : reason)
            }
        } catch {
            return outcome(.fail(reason: "\(error)"), ok: false, "\(error)")
        }
    }

    /// The exit code of the Job: 0 only when every volume succeeded.
    public static func exitStatus(_ outcomes: [VolumeOutcome]) -> ExitStatus {
        outcomes.allSatisfy(\.succeeded) ? .ok : .infrastructure
    }
}
