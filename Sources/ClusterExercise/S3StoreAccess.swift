import AWS
import Backupstore
import BackupstoreS3
import DRCore
import Foundation
import KubeClient
import KubeModels

/// Everything needed to reach one Longhorn S3 backup store, and the one place that opens it:
/// `backup verify` and the exercise's store check both come here, so the endpoint policy, the
/// addressing style and the extra CA are applied the same way.
public struct S3StoreAccess: Sendable {
    public var location: S3Location
    public var credentials: AWSCredentials
    public var region: String
    /// A custom endpoint (MinIO, SeaweedFS...), nil for AWS.
    public var endpoint: String?
    /// The Secret's or environment's VIRTUAL_HOSTED_STYLE, as Longhorn reads it.
    public var virtualHostedStyle: String?
    /// PEM text trusted in addition to the system roots.
    public var caPEM: String?
    public var allowInsecureEndpoint: Bool

    public init(
        location: S3Location, credentials: AWSCredentials, region: String, endpoint: String?, virtualHostedStyle: String?,
        caPEM: String?, allowInsecureEndpoint: Bool
    ) {
        self.location = location
        self.credentials = credentials
        self.region = region
        self.endpoint = endpoint
        self.virtualHostedStyle = virtualHostedStyle
        self.caPEM = caPEM
        self.allowInsecureEndpoint = allowInsecureEndpoint
    }

    /// Runs `body` with the store open; the HTTP client ends with it. A plain-http endpoint on
    /// another machine is refused unless allowed, and then comes with a warning.
    public func withStore<T: Sendable>(_ body: (OpenedStore) async throws -> T) async throws -> T {
        let warning = try endpoint.flatMap {
            try EndpointPolicy.require($0, carrying: "the store's credentials and the volume's data", allowInsecure: allowInsecureEndpoint)
        }
        let addressing = try S3Addressing(region: region, customEndpoint: endpoint, virtualHostedStyle: virtualHostedStyle)
        return try await AWSHTTPClient.withClient(caPEM: caPEM) { http in
            let store = S3ObjectStore(client: S3Client(http: http, addressing: addressing, credentials: credentials), bucket: location.bucket)
            return try await body(OpenedStore(url: location.description, store: store, layout: BackupstoreLayout(prefix: location.prefix), warning: warning))
        }
    }
}

extension LonghornBackupSecret {
    /// Reads a backup-target credential Secret through the Kubernetes API; `name` in messages is
    /// `namespace/name`.
    public static func fetch(from kube: KubeClient, namespace: String, name: String) async throws -> LonghornBackupSecret {
        let object = try await kube.get(.secrets, namespace: namespace, name: name)
        return try LonghornBackupSecret(name: "\(namespace)/\(name)", base64Data: (object["data"]?.objectValue ?? [:]).mapValues { $0.stringValue ?? "" })
    }
}
