import Foundation
import KubeClient
import KubeModels

extension LonghornClient {
    /// Creates a Volume restoring `backup` (see `LonghornManifests.restoreVolume`). Safe to
    /// repeat: an existing Volume restoring the same backup URL is returned as it is.
    /// - Throws: `.conflict` when a Volume of that name exists with another origin; the
    ///   webhook's text when Longhorn refuses it (e.g. Backup or BackupVolume not synced).
    public func createRestoreVolume(name: String, from backup: Backup, options: VolumeOptions = VolumeOptions()) async throws(LonghornError) -> Volume {
        let volume = try LonghornManifests.restoreVolume(name: name, namespace: namespace, backup: backup, options: options, version: version)
        return try await createOrAdopt(
            volume,
            hint: "Longhorn refuses a restore until the Backup and its BackupVolume are synced; wait for findBackup to report .found, then retry")
    }

    /// Creates an empty Volume. Safe to repeat: an existing Volume that restores nothing is returned.
    public func createFreshVolume(name: String, sizeBytes: Int64, options: VolumeOptions = VolumeOptions()) async throws(LonghornError) -> Volume {
        let volume = try LonghornManifests.freshVolume(name: name, namespace: namespace, sizeBytes: sizeBytes, options: options, version: version)
        return try await createOrAdopt(volume, hint: nil)
    }

    private func createOrAdopt(_ volume: Volume, hint: String?) async throws(LonghornError) -> Volume {
        do {
            return try await create(volume, hint: hint)
        } catch  where error.underlying?.code == .alreadyExists {
            guard let existing = try await get(Volume.self, volume.name) else { throw error }
            let wanted = volume.spec.fromBackup ?? ""
            let have = existing.spec.fromBackup ?? ""
            guard wanted == have else {
                throw LonghornError(
                    .conflict, subject: existing.subject,
                    detail: have.isEmpty
                        ? "already exists as a volume that restores nothing; will not turn it into a restore of \(wanted)"
                        : "already exists restoring \(have), not \(wanted.isEmpty ? "nothing (a fresh volume)" : wanted)",
                    hint: "an existing Longhorn volume is kept as it is; delete it yourself only if its data is known to be disposable")
            }
            return existing
        }
    }

    /// Waits until the restore has finished and Longhorn let go of the volume, failing fast on
    /// `faulted` or `RestoreFailure`. A `detached` before `restoreInitiated`, and `attached`
    /// while restoring, are both "not yet".
    /// - Parameter timeout: size it to the data: restores of large volumes take long.
    /// - Parameter progress: told every change of the volume.
    public func waitForRestore(
        _ name: String, timeout: Duration, progress: @escaping @Sendable (RestoreProgress) -> Void = { _ in }
    ) async throws(LonghornError) -> Volume {
        let namespace = namespace
        return try await wait(
            Volume.self, name, timeout: timeout, until: "restored and detached",
            hint:
                "restores take time in proportion to the data; raise the restore timeout, and see `kubectl -n \(namespace) get volumes.longhorn.io \(name) -o yaml` and the engine/replica events"
        ) { volume in
            guard let volume else {
                return .failed(LonghornError(.restoreFailed, subject: Volume.subject(namespace, name), detail: "disappeared during the restore"))
            }
            let state = RestoreProgress(volume)
            progress(state)
            switch state.phase {
            case .done: return .done(volume)
            case .failed:
                return .failed(
                    LonghornError(
                        .restoreFailed, subject: volume.subject, detail: state.description,
                        hint:
                            "check replica scheduling (condition Scheduled), the store's reachability and the engine logs; a faulted restore must be deleted and retried"
                    ))
            case .notStarted, .restoring, .finishing: return .waiting(state.description)
            }
        }
    }
}
