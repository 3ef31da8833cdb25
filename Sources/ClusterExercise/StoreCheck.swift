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
    /// How the workstation reaches the store: the target's URL, Longhorn's Secret, and the
    /// exercise config's endpoint override and AWS access (for targets without a Secret).
    struct Access {
        var url: String
        var location: S3Location
        var addressing: S3Addressing
        var credentials: AWSCredentials
        var caPEM: String?
        /// Set when plain http to another machine was allowed (`aws.allowInsecureEndpoint`).
        var warning: String?
    }

    static func access(targetName: String, longhorn: LonghornClient, config: ExerciseConfig) async throws -> Access {
        guard let url = try await longhorn.backupTargetURL(targetName) else {
            throw DRError(.infrastructure, subject: "backup target \(targetName)", detail: "has no URL", hint: "configure Longhorn's backup target")
        }
        guard url.hasPrefix("s3://") else {
            throw DRError(.environment, subject: "backup target \(url)", detail: "is not an S3 target; the store check reads S3 only",
                hint: "use an S3 backup target (AWS, MinIO, SeaweedFS, ...)")
        }
        let secret = try await credentialSecret(longhorn: longhorn, targetName: targetName)
        let location = try S3Location(parsing: url)
        let credentials: AWSCredentials
        if let secret {
            credentials = try secret.credentials()
        } else {
            // No Secret (IAM roles inside the cluster): the workstation's own credentials.
            credentials = try await WorkstationAWS.credentials(config.aws)
        }
        let region = try location.region ?? AWSCredentialChain(environment: .process(), profile: config.aws.profile).resolveRegion()
        let endpoint = config.longhorn.storeEndpoint ?? secret?.endpoint
        let warning = try endpoint.flatMap {
            try EndpointPolicy.require($0, carrying: "the store's credentials and the volume's data", allowInsecure: config.aws.allowInsecureEndpoint)
        }
        let addressing = try S3Addressing(region: region, customEndpoint: endpoint, virtualHostedStyle: secret?.virtualHostedStyle)
        return Access(url: url, location: location, addressing: addressing, credentials: credentials, caPEM: secret?.certificatePEM,
            warning: warning)
    }

    static func verify(_ backup: BackupEvidence, sentinelFile: String, targetName: String, longhorn: LonghornClient, config: ExerciseConfig,
        workDirectory: URL) async throws -> [String: String]
    {
        let access = try await access(targetName: targetName, longhorn: longhorn, config: config)
        let image = workDirectory.appendingPathComponent("verify-\(backup.backupName).img")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: image) }
        let result = try await AWSHTTPClient.withClient(caPEM: access.caPEM) { http in
            let store = S3ObjectStore(client: S3Client(http: http, addressing: access.addressing, credentials: access.credentials), bucket: access.location.bucket)
            return try await BackupReader(store: store, layout: BackupstoreLayout(prefix: access.location.prefix))
                .restore(volume: backup.volume, backup: backup.backupName, to: image, parallelism: 8)
        }
        let sentinel = try await Ext4FileExtractor.extract(path: sentinelFile, from: image, into: workDirectory)
        return ["blocksVerified": String(result.blocksVerified), "bytesVerified": String(result.bytesVerified),
            "storeSentinelSHA256": sentinel.sha256, "storeSentinelBytes": String(sentinel.size), "store": access.url]
    }

    /// Preflight: the store answers a HEAD from this workstation with the credentials the
    /// store check will use, before anything is destroyed.
    /// - Returns: the target URL, and a warning when the store is reached over allowed plain http.
    static func probe(targetName: String, volume: String, longhorn: LonghornClient, config: ExerciseConfig) async throws -> (url: String, warning: String?) {
        let access = try await access(targetName: targetName, longhorn: longhorn, config: config)
        do {
            // One HEAD (absent is fine: the first exercise has no backup yet); a refusal, an
            // unknown host or a bad key fails here instead of after the destroy.
            _ = try await AWSHTTPClient.withClient(caPEM: access.caPEM) { http in
                try await S3ObjectStore(client: S3Client(http: http, addressing: access.addressing, credentials: access.credentials), bucket: access.location.bucket)
                    .head(BackupstoreLayout(prefix: access.location.prefix).volumeConfigKey(volume))
            }
        } catch {
            throw DRError(.environment, subject: "backup store \(access.url)", detail: "cannot be read from this workstation: \(error)",
                hint: "the store check reads the backup from here before destroy; set longhorn.storeEndpoint when the Secret's endpoint only resolves inside the cluster, or aws.credentials for the workstation's own access")
        }
        return (access.url, access.warning)
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
        return try LonghornBackupSecret(name: "\(longhorn.namespace)/\(name)",
            base64Data: (object["data"]?.objectValue ?? [:]).mapValues { $0.stringValue ?? "" })
    }
}

/// The workstation's AWS credentials for the exercise's own requests: the built-in chain
/// (environment, shared files) or, for SSO / role_arn / credential_process profiles, the aws CLI.
enum WorkstationAWS {
    static func credentials(_ access: ExerciseConfig.AWSAccess, profile: String? = nil) async throws -> AWSCredentials {
        let profile = profile ?? access.profile
        switch access.credentials {
        case .chain: return try AWSCredentialChain(environment: .process(), profile: profile).resolveCredentials()
        case .awsCLI: return try await AWSCLICredentialSource(profile: profile).resolve()
        }
    }
}
