import Foundation
import KubeClient
import KubeModels

/// What `waitUntilReadyForRestore` established: the target is available and was listed after
/// `syncRequestedAt`, so lookups against it can trust an empty answer.
public struct RestoreReadiness: Sendable, Hashable {
    public var target: BackupTarget
    /// The time written to `spec.syncRequestedAt`; pass it to `findBackup(…syncedAfter:)`.
    public var syncRequestedAt: Date
}

extension LonghornClient {
    /// Waits until Longhorn can serve a restore: manager and CSI workloads rolled out, then the
    /// backup target available and synced after a sync this call requests.
    /// - Parameter progress: told what is being waited for, in plain words.
    /// - Throws: `.timeout` naming the workload or target still not ready, with Longhorn's words.
    public func waitUntilReadyForRestore(
        target: String = LonghornResources.defaultBackupTarget, timeout: Duration,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(LonghornError) -> RestoreReadiness {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        try await waitForWorkloads(timeout: timeout, progress: progress)
        // v1.7 and older create BackupTarget default asynchronously after the manager starts:
        // its absence right after a rebuild is "not yet", not "unavailable".
        progress("waiting for backup target \(target) to exist")
        let namespace = namespace
        let settings = version.backupTargetSource == .settings
        _ = try await wait(
            BackupTarget.self, target, timeout: max(deadline - clock.now, .milliseconds(100)), until: "created",
            hint: settings
                ? "Longhorn \(version) creates BackupTarget \(target) itself from the Setting backup-target; check longhorn-manager is running"
                : "create BackupTarget \(target) (or set Helm defaultBackupStore.backupTarget) with the store URL and credential secret"
        ) { found in
            found.map { .done($0) } ?? .waiting("BackupTarget \(namespace)/\(target) does not exist yet")
        }
        let requested = try await requestBackupTargetSync(target)
        progress("waiting for backup target \(target) to be available and synced after \(LonghornTime.format(requested))")
        let remaining = max(deadline - clock.now, .seconds(1))
        let synced = try await waitForBackupTarget(target, syncedAfter: requested, timeout: remaining)
        return RestoreReadiness(target: synced, syncRequestedAt: requested)
    }

    /// Waits until every workload is rolled out, sharing one budget.
    public func waitForWorkloads(
        _ workloads: [Workload] = Workload.requiredForRestore, timeout: Duration, progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(LonghornError) {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        for workload in workloads {
            let subject = "\(workload.resource) \(namespace)/\(workload.name)"
            progress("waiting for \(workload) to roll out")
            let remaining = max(deadline - clock.now, .milliseconds(100))
            do {
                try await kube.waitFor(workload.resource, namespace: namespace, name: workload.name, timeout: remaining, until: "rolled out") {
                    workload.rollout(of: $0) == .rolledOut
                }
            } catch {
                guard error.code == .timeout else { throw LonghornError.kube(error, subject: subject) }
                let current = try? await kube.listNamed(workload.resource, namespace: namespace, name: workload.name)
                var state = "unknown"
                if case .progressing(let text) = workload.rollout(of: current) { state = text }
                throw LonghornError(
                    .timeout, subject: subject, detail: "not rolled out after \(Self.describe(timeout)): \(state)",
                    hint:
                        "check `kubectl -n \(namespace) rollout status \(workload)` and the pods' events; CSI workloads appear only after longhorn-driver-deployer ran",
                    underlying: error)
            }
        }
    }

    /// Asks Longhorn to list the backup target now rather than at its next poll (default every
    /// 300 s), by writing the current time to `spec.syncRequestedAt`.
    /// - Returns: the time written (whole seconds); a sync is fresh when `lastSyncedAt` is at or after it.
    @discardableResult
    public func requestBackupTargetSync(_ name: String = LonghornResources.defaultBackupTarget) async throws(LonghornError) -> Date {
        let time = Self.wholeSeconds(now())
        do {
            _ = try await kube.patch(
                LonghornResources.backupTargets, namespace: namespace, name: name, type: .merge,
                patch: LonghornManifests.syncRequest(at: time))
        } catch {
            if error.code == .notFound {
                throw LonghornError(
                    .backupTargetUnavailable, subject: BackupTarget.subject(namespace, name), detail: "does not exist",
                    hint: version.backupTargetSource == .settings
                        ? "Longhorn \(version) creates BackupTarget default itself; set the Setting backup-target and check longhorn-manager is running"
                        : "create BackupTarget \(name) (or set Helm defaultBackupStore.backupTarget) with the store URL and credential secret",
                    underlying: error)
            }
            throw LonghornError.kube(error, subject: BackupTarget.subject(namespace, name))
        }
        return time
    }

    /// Waits until the BackupTarget is available and `lastSyncedAt` is at or after `syncedAfter`.
    /// An unavailable target is waited on, not failed at once: its credential Secret or the store
    /// may still be coming up. On timeout the error carries Longhorn's `Unavailable` message.
    public func waitForBackupTarget(
        _ name: String = LonghornResources.defaultBackupTarget, syncedAfter: Date, timeout: Duration
    ) async throws(LonghornError) -> BackupTarget {
        let source = version.backupTargetSource
        let namespace = namespace
        do {
            return try await wait(
                BackupTarget.self, name, timeout: timeout, until: "available and synced",
                hint: source == .settings
                    ? "check the Settings backup-target and backup-target-credential-secret (`kubectl -n \(namespace) get settings.longhorn.io backup-target`) and the store's reachability"
                    : "check `kubectl -n \(namespace) get backuptargets.longhorn.io \(name) -o yaml`: its URL, its credential Secret in \(namespace), and the store's reachability"
            ) { target in
                guard let target else { return .waiting("it does not exist") }
                if target.isSynced(after: syncedAfter) { return .done(target) }
                if let url = target.spec?.backupTargetURL, url.isEmpty { return .waiting("it has no backupTargetURL configured") }
                if !target.isAvailable {
                    return .waiting("it is unavailable: \(target.unavailableReason ?? "Longhorn gave no reason yet")")
                }
                return .waiting("it is available but last synced \(target.status?.lastSyncedAt ?? "never"), before \(LonghornTime.format(syncedAfter))")
            }
        } catch {
            guard error.code == .timeout else { throw error }
            throw LonghornError(.backupTargetUnavailable, subject: error.subject, detail: error.detail, hint: error.hint, underlying: error.underlying)
        }
    }

    /// The configured store URL: the Setting `backup-target` on ≤ v1.7, the BackupTarget's
    /// `spec.backupTargetURL` on v1.8+. Nil when nothing is configured.
    public func backupTargetURL(_ name: String = LonghornResources.defaultBackupTarget) async throws(LonghornError) -> String? {
        switch version.backupTargetSource {
        case .settings:
            return try await get(Setting.self, Setting.Name.backupTarget)?.value.nilIfEmpty
        case .backupTargetResource:
            return try await get(BackupTarget.self, name)?.spec?.backupTargetURL?.nilIfEmpty
        }
    }

    static func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
}
