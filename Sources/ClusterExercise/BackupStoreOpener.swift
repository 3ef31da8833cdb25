import AWS
import Backupstore
import BackupstoreS3
import DRCore
import Foundation
import KubeClient
import KubeModels
import Longhorn

/// Opens the store behind a cluster's backup target as this workstation reaches it: the one
/// part of the store check that differs between a real cluster (S3 with the credentials
/// Longhorn itself uses) and the simulated one (a folder standing in for the bucket).
public protocol BackupStoreOpener: Sendable {
    /// Runs `body` with the store open; whatever the store holds (an HTTP client) ends with it.
    func withStore<T: Sendable>(target: String, longhorn: LonghornClient, _ body: (OpenedStore) async throws -> T) async throws -> T
}

/// A backup store, open.
public struct OpenedStore: Sendable {
    /// The backup target's URL, as the report names the store.
    public var url: String
    public var store: any ObjectStore
    public var layout: BackupstoreLayout
    /// Set when the store is reached in a way that gives something away (plain http allowed).
    public var warning: String?

    public init(url: String, store: any ObjectStore, layout: BackupstoreLayout, warning: String? = nil) {
        self.url = url
        self.store = store
        self.layout = layout
        self.warning = warning
    }
}

/// The S3 store Longhorn writes to, with the credentials of the target's Secret (or, for
/// targets without one, the workstation's own), the config's endpoint override and CA.
public struct S3StoreOpener: BackupStoreOpener {
    let config: ExerciseConfig

    public init(config: ExerciseConfig) {
        self.config = config
    }

    public func withStore<T: Sendable>(target: String, longhorn: LonghornClient, _ body: (OpenedStore) async throws -> T) async throws -> T {
        guard let url = try await longhorn.backupTargetURL(target) else {
            throw DRError(.infrastructure, subject: "backup target \(target)", detail: "has no URL", hint: "configure Longhorn's backup target")
        }
        guard url.hasPrefix("s3://") else {
            throw DRError(
                .environment, subject: "backup target \(url)", detail: "is not an S3 target; the store check reads S3 only",
                hint: "use an S3 backup target (AWS, MinIO, SeaweedFS, ...)")
        }
        let secret = try await Self.credentialSecret(longhorn: longhorn, targetName: target)
        let location = try S3Location(parsing: url)
        let credentials: AWSCredentials
        if let secret {
            credentials = try secret.credentials()
        } else {
            // No Secret (IAM roles inside the cluster): the workstation's own credentials.
            credentials = try await WorkstationAWS.credentials(config.aws)
        }
        let region = try location.region ?? AWSCredentialChain(environment: .process(), profile: config.aws.profile).resolveRegion()
        let access = S3StoreAccess(
            location: location, credentials: credentials, region: region,
            endpoint: config.longhorn.storeEndpoint ?? secret?.endpoint, virtualHostedStyle: secret?.virtualHostedStyle, caPEM: secret?.certificatePEM,
            allowInsecureEndpoint: config.aws.allowInsecureEndpoint)
        return try await access.withStore { opened in
            var opened = opened
            opened.url = url
            return try await body(opened)
        }
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
        return try await LonghornBackupSecret.fetch(from: longhorn.kube, namespace: longhorn.namespace, name: name)
    }
}

/// The workstation's AWS credentials for the exercise's own requests, as the config asks.
enum WorkstationAWS {
    static func credentials(_ access: ExerciseConfig.AWSAccess, profile: String? = nil) async throws -> AWSCredentials {
        try await WorkstationCredentials.resolve(viaAWSCLI: access.credentials == .awsCLI, profile: profile ?? access.profile)
    }
}
