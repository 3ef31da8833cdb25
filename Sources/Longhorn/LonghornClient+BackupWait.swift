import Foundation
import KubeClient
import KubeModels

extension LonghornClient {
    /// Waits until `findBackup` can decide: `.found` or `.confirmedNone`. Re-evaluates on every
    /// change to BackupTargets, BackupVolumes and Backups (the client's shared informers, watched,
    /// not polled), and waits for the BackupVolume's own sync, which the target's sync requests
    /// (never patched from here).
    /// - Throws: `.timeout` with the last "not synced" reason — never a guessed "no backup";
    ///   and whatever `findBackup` throws (missing pinned backup, duplicates).
    public func waitForBackupDecision(
        volume: String, target: String = LonghornResources.defaultBackupTarget, selection: BackupSelection = .latest,
        syncedAfter: Date, timeout: Duration, progress: @escaping @Sendable (NotSyncedReason) -> Void = { _ in }
    ) async throws(LonghornError) -> BackupLookup {
        enum Outcome: Sendable {
            case decided(BackupLookup)
            case timedOut
            case watchEnded
        }
        let last = LastReason()
        let (changes, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        // One shared watch per kind for every volume deciding at once: the caches, not a list
        // per volume per change, are what each decision reads.
        let targets = await kube.informer(LonghornResources.backupTargets, namespace: namespace)
        let backupVolumes = await kube.informer(LonghornResources.backupVolumes, namespace: namespace)
        let backups = await kube.informer(LonghornResources.backups, namespace: namespace)
        do {
            return try await withThrowingTaskGroup(of: Outcome.self) { group in
                for informer in [targets, backupVolumes, backups] {
                    group.addTask {
                        for try await _ in await informer.changes() { signal.yield() }
                        return .watchEnded
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                }
                group.addTask {
                    // No sync requests of its own: Longhorn's target sync already asks every
                    // BackupVolume to sync, and the restore Job is not granted that patch.
                    for await _ in changes {
                        guard await targets.isSynced, await backupVolumes.isSynced, await backups.isSynced else { continue }
                        let lookup = try await self.decideBackup(
                            volume: volume, target: target, selection: selection, syncedAfter: syncedAfter,
                            targets: targets, backupVolumes: backupVolumes, backups: backups)
                        guard case .notSynced(let reason) = lookup else { return .decided(lookup) }
                        if await last.set(reason) { progress(reason) }
                    }
                    return .watchEnded
                }
                defer { group.cancelAll() }
                while let outcome = try await group.next() {
                    switch outcome {
                    case .decided(let lookup): return lookup
                    case .timedOut:
                        let reason = await last.reason.map { String(describing: $0) } ?? "no answer from Longhorn yet"
                        throw LonghornError(
                            .timeout, subject: "backup of volume \(volume) (\(selection))",
                            detail: "not decidable after \(Self.describe(timeout)): \(reason)",
                            hint:
                                "the backup target, the volume's BackupVolume and its Backups must sync from the store first; check `kubectl -n \(namespace) get backuptargets.longhorn.io,backupvolumes.longhorn.io` and the store; raise the timeout for slow stores"
                        )
                    case .watchEnded: continue
                    }
                }
                throw LonghornError(.timeout, subject: "backup of volume \(volume)", detail: "the watches ended before a decision")
            }
        } catch let error as LonghornError {
            throw error
        } catch let error as KubeClientError {
            throw LonghornError.kube(error, subject: "backup of volume \(volume)")
        } catch {
            throw LonghornError(.kubernetes, subject: "backup of volume \(volume)", detail: "\(error)")
        }
    }
}

extension LonghornClient {
    /// `decideBackup` on the informers' caches. Only the Backups that can matter are decoded (of
    /// this volume, or named by a BackupVolume's lastBackupName or the selection), so fifty
    /// volumes deciding over thousands of Backups stay cheap.
    func decideBackup(
        volume: String, target: String, selection: BackupSelection, syncedAfter: Date,
        targets: SharedInformer, backupVolumes: SharedInformer, backups: SharedInformer
    ) async throws(LonghornError) -> BackupLookup {
        let backupTarget = try await targets.object(named: target).map { json throws(LonghornError) in try BackupTarget(json: json) }
        var volumes: [BackupVolume] = []
        for json in await backupVolumes.items { volumes.append(try BackupVolume(json: json)) }
        var wanted = Set(volumes.compactMap(\.lastBackupName))
        if case .named(let name) = selection { wanted.insert(name) }
        var candidates: [Backup] = []
        for json in await backups.items {
            let name = json[path: ["metadata", "name"]]?.stringValue ?? ""
            guard
                json[path: ["metadata", "labels", "backup-volume"]]?.stringValue == volume
                    || json[path: ["status", "volumeName"]]?.stringValue == volume || wanted.contains(name)
            else { continue }
            candidates.append(try Backup(json: json))
        }
        return try Self.decideBackup(
            volume: volume, target: target, selection: selection, syncedAfter: syncedAfter,
            backupTarget: backupTarget, backupVolumes: volumes, backups: candidates, namespace: namespace,
            requireBackupTargetName: version.hasMultipleBackupTargets)
    }
}

/// The latest "not synced" reason a wait saw, for progress and the timeout message.
actor LastReason {
    private(set) var reason: NotSyncedReason?

    /// Records `reason`; true when it differs from the previous one.
    func set(_ new: NotSyncedReason) -> Bool {
        defer { reason = new }
        return reason != new
    }
}
