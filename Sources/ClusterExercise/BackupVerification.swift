import Backupstore
import DRCore
import Foundation

/// `backup verify`: one backup read straight from its store, every block checked, optionally
/// one file extracted from the rebuilt image. The store comes open (``S3StoreAccess``); what is
/// left here is the work folder, the verifier and the report.
public struct BackupVerification: Sendable {
    public var volume: String
    /// nil: the newest completed backup.
    public var backup: String?
    /// A file inside the volume's ext4 filesystem whose SHA-256 to report.
    public var file: String?
    public var parallelism: Int
    /// Where the temporary image is rebuilt (nil: the temporary folder).
    public var workDirectory: URL?

    public init(volume: String, backup: String?, file: String?, parallelism: Int, workDirectory: URL?) {
        self.volume = volume
        self.backup = backup
        self.file = file
        self.parallelism = parallelism
        self.workDirectory = workDirectory
    }

    public func run(in opened: OpenedStore, credentialsSource: String, progress: (@Sendable (BackupReader.Progress) -> Void)?) async throws
        -> VerifyReport
    {
        let folder = try makeWorkFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let outcome = try await StoreVerifier(store: opened.store, layout: opened.layout).verify(
            volume: volume, backup: backup, file: file,
            parallelism: parallelism, workFolder: folder, progress: progress)
        return VerifyReport(
            target: opened.url, volume: volume, backup: outcome.backup.name, createdTime: outcome.backup.createdTime,
            compression: outcome.backup.compressionMethod.rawValue, result: outcome.blocks, verifySeconds: outcome.blockSeconds,
            credentialsSource: credentialsSource, file: outcome.file)
    }

    private func makeWorkFolder() throws -> URL {
        let folder = (workDirectory ?? FileManager.default.temporaryDirectory).appendingPathComponent("longhorn-dr-verify-\(UUID().uuidString)")
        do {
            // The rebuilt image is the volume's data: readable by this user only.
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DRError(
                .environment, subject: "work folder \(folder.path)", detail: "cannot be created: \(error)",
                hint: "pass --work-dir with a writable folder that has room for the volume image (it stays sparse)", cause: error)
        }
        return folder
    }
}
