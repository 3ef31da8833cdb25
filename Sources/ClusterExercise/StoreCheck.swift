import Backupstore
import DRCore
import Exercise
import Foundation
import Longhorn

/// The exercise's store check: the backup read straight from its store (never the cluster's
/// word for it), every block verified, and the sentinel hashed out of the volume's filesystem.
enum StoreCheck {
    static func verify(
        _ backup: BackupEvidence, sentinelFile: String, target: String, longhorn: LonghornClient,
        opener: any BackupStoreOpener, workDirectory: URL
    ) async throws -> StoreCheckResult {
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return try await opener.withStore(target: target, longhorn: longhorn) { opened in
            let outcome = try await StoreVerifier(store: opened.store, layout: opened.layout)
                .verify(volume: backup.volume, backup: backup.backupName, file: sentinelFile, workFolder: workDirectory)
            return StoreCheckResult(
                blocksVerified: outcome.blocks.blocksVerified, bytesVerified: outcome.blocks.bytesVerified,
                sentinelSHA256: outcome.file?.sha256 ?? "", sentinelBytes: outcome.file?.size ?? 0, store: opened.url)
        }
    }

    /// Preflight: the store answers a HEAD from this workstation with the access the store check
    /// will use, before anything is destroyed.
    /// - Returns: the target URL, and a warning when the store is reached over allowed plain http.
    static func probe(target: String, volume: String, longhorn: LonghornClient, opener: any BackupStoreOpener) async throws -> (url: String, warning: String?) {
        var reached: String?
        do {
            return try await opener.withStore(target: target, longhorn: longhorn) { opened in
                reached = opened.url
                // One HEAD (absent is fine: the first exercise has no backup yet); a refusal, an
                // unknown host or a bad key fails here instead of after the destroy.
                _ = try await opened.store.head(opened.layout.volumeConfigKey(volume))
                return (opened.url, opened.warning)
            }
        } catch  where reached == nil {
            // Opening failed (no URL, a bad Secret): that error says it best.
            throw error
        } catch {
            throw DRError(
                .environment, subject: "backup store \(reached ?? target)", detail: "cannot be read from this workstation: \(error)",
                hint:
                    "the store check reads the backup from here before destroy; set longhorn.storeEndpoint when the Secret's endpoint only resolves inside the cluster, or aws.credentials for the workstation's own access",
                cause: error
            )
        }
    }
}
