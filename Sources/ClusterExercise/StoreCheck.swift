import AWS
import Backupstore
import BackupstoreS3
import DRCore
import Exercise
import Foundation
import KubeClient
import Longhorn

/// Reads a backup straight from the S3 store Longhorn writes to, with the credentials Longhorn
/// itself uses (the backup target's credential Secret), verifies every block, and extracts the
/// sentinel from the volume's ext4 filesystem with debugfs. Nothing here trusts the cluster's
/// word that the backup is good.
enum StoreCheck {
    static func verify(_ backup: BackupEvidence, sentinelFile: String, targetName: String, longhorn: LonghornClient, workDirectory: URL) async throws -> [String: String] {
        guard let url = try await longhorn.backupTargetURL(targetName) else {
            throw DRError(.infrastructure, subject: "backup target \(targetName)", detail: "has no URL", hint: "configure Longhorn's backup target")
        }
        guard url.hasPrefix("s3://") else {
            throw DRError(.environment, subject: "backup target \(url)", detail: "is not an S3 target; the store check reads S3 only",
                hint: "use an S3 backup target (AWS, MinIO, SeaweedFS, ...)")
        }
        let secret = try await credentialSecret(longhorn: longhorn, targetName: targetName)
        let location = try S3Location(parsing: url)
        let chain = AWSCredentialChain(environment: .process(), sources: secret.map { [.longhornSecret($0)] } ?? [.environment, .sharedFiles])
        let region = try location.region ?? chain.resolveRegion()
        let credentials = try chain.resolveCredentials()
        let addressing: S3Addressing = if let secret { try S3Addressing(region: region, secret: secret) } else { try S3Addressing(region: region) }
        let image = workDirectory.appendingPathComponent("verify-\(backup.backupName).img")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: image) }
        let result = try await AWSHTTPClient.withClient(caPEM: secret?.certificatePEM) { http in
            let store = S3ObjectStore(client: S3Client(http: http, addressing: addressing, credentials: credentials), bucket: location.bucket)
            return try await BackupReader(store: store, layout: BackupstoreLayout(prefix: location.prefix))
                .restore(volume: backup.volume, backup: backup.backupName, to: image, parallelism: 8)
        }
        let sentinel = try await Ext4FileExtractor.extract(path: sentinelFile, from: image, into: workDirectory)
        return ["blocksVerified": String(result.blocksVerified), "bytesVerified": String(result.bytesVerified),
            "storeSentinelSHA256": sentinel.sha256, "storeSentinelBytes": String(sentinel.size), "store": url]
    }

    /// The Secret named by the target (`spec.credentialSecret`, or the ≤ v1.7 Setting), read from
    /// Longhorn's namespace; nil when the target needs none (IAM roles, public test stores).
    static func credentialSecret(longhorn: LonghornClient, targetName: String) async throws -> LonghornBackupSecret? {
        let name: String?
        switch longhorn.version.backupTargetSource {
        case .settings: name = try await longhorn.get(Setting.self, Setting.Name.backupTargetCredentialSecret)?.value
        case .backupTargetResource: name = try await longhorn.get(BackupTarget.self, targetName)?.spec?.credentialSecret
        }
        guard let name, !name.isEmpty else { return nil }
        let object = try await longhorn.kube.get(.secrets, namespace: longhorn.namespace, name: name)
        var data: [String: Data] = [:]
        for (key, value) in object["data"]?.objectValue ?? [:] {
            if let text = value.stringValue, let bytes = Data(base64Encoded: text) { data[key] = bytes }
        }
        return try LonghornBackupSecret(name: "\(longhorn.namespace)/\(name)", data: data)
    }
}
