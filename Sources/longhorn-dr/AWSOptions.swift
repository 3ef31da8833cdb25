import AWS
import ArgumentParser
import BackupstoreS3
import ClusterExercise
import DRCore
import Foundation
import KubeClient
import KubeModels

/// Where AWS credentials come from, shared by `backup verify`, `assure` and `kubeconfig fetch`.
struct AWSOptions: ParsableArguments {
    @Option(help: "The AWS region (default: the target URL's, then AWS_REGION / AWS_DEFAULT_REGION, then the profile's).")
    var region: String?

    @Option(help: "Use this profile of ~/.aws/credentials and ~/.aws/config (skips the environment keys).")
    var profile: String?

    @Flag(help: "Take credentials from `aws configure export-credentials` (SSO, assume-role chains, credential_process).")
    var awsCli = false

    @Option(help: ArgumentHelp("A PEM file with the CA certificate of a custom endpoint (trusted in addition to the system roots).", valueName: "path"))
    var caFile: String?

    @Flag(help: "Allow a plain http:// endpoint on another machine (credentials and data then cross the network unencrypted).")
    var allowInsecureEndpoint = false

    /// The region from the flag, else the environment or config files.
    func resolveRegion(fallback: String? = nil, chain: AWSCredentialChain) throws -> String {
        if let region, !region.isEmpty { return region }
        if let fallback, !fallback.isEmpty { return fallback }
        return try chain.resolveRegion()
    }

    func chain(secret: LonghornBackupSecret? = nil) -> AWSCredentialChain {
        WorkstationCredentials.chain(profile: profile, provider: secret)
    }

    /// Credentials from the chosen source: the Secret, the aws CLI, or the environment and files.
    func resolveCredentials(secret: LonghornBackupSecret?) async throws -> AWSCredentials {
        try await WorkstationCredentials.resolve(viaAWSCLI: awsCli, profile: profile, provider: secret)
    }

    /// The extra CA from `--ca-file`, else the Secret's or environment's `AWS_CERT` (PEM text, as Longhorn takes it).
    func caPEM(secret: LonghornBackupSecret?) throws -> String? {
        if let caFile {
            let path = (caFile as NSString).expandingTildeInPath
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw DRError(
                    .usage, subject: "--ca-file \(caFile)", detail: "cannot be read as a PEM text file",
                    hint: "give the path of the endpoint's CA certificate in PEM form")
            }
            return text
        }
        if let pem = secret?.certificatePEM { return pem }
        return ProcessInfo.processInfo.environment["AWS_CERT"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Reads a Longhorn backup-target credential Secret through the Kubernetes API.
struct SecretOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Read credentials (and AWS_ENDPOINTS, AWS_CERT, VIRTUAL_HOSTED_STYLE) from this Longhorn backup-target Secret.", valueName: "namespace/name"))
    var secret: String?

    @Option(help: "The kubeconfig to reach the cluster holding --secret (assure: also the one --cross-check reads); in a pod, its service account.")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use for --secret (and assure's --cross-check).")
    var context: String?

    func validate() throws {
        if let secret, secret.split(separator: "/", omittingEmptySubsequences: false).count != 2 || secret.hasPrefix("/") || secret.hasSuffix("/") {
            throw ValidationError("--secret must be NAMESPACE/NAME, e.g. longhorn-system/s3-backup-secret; got \"\(secret)\"")
        }
    }

    /// The Secret, or `nil` when `--secret` is not given.
    func load() async throws -> LonghornBackupSecret? {
        guard let secret else { return nil }
        let parts = secret.split(separator: "/").map(String.init)
        let cluster = try Terminal.loadCluster(kubeconfig: kubeconfig, context: context)
        return try await KubeClient.withClient(cluster) { client in
            try await LonghornBackupSecret.fetch(from: client, namespace: parts[0], name: parts[1])
        }
    }
}

extension AWSOptions {
    /// The store at `location`, reached as `backup verify` and `assure` both do: credentials and
    /// region from these options (or the Longhorn Secret of `secretOptions`), the endpoint from
    /// `endpoint`, the Secret's AWS_ENDPOINTS or the environment's.
    func storeAccess(location: S3Location, endpoint: String?, secretOptions: SecretOptions) async throws -> S3StoreAccess {
        let secret = try await secretOptions.load()
        let environment = ProcessInfo.processInfo.environment
        return S3StoreAccess(
            location: location, credentials: try await resolveCredentials(secret: secret),
            region: try resolveRegion(fallback: location.region, chain: chain(secret: secret)),
            endpoint: endpoint ?? secret?.endpoint ?? environment["AWS_ENDPOINTS"].flatMap { $0.isEmpty ? nil : $0 },
            virtualHostedStyle: secret?.virtualHostedStyle ?? environment["VIRTUAL_HOSTED_STYLE"], caPEM: try caPEM(secret: secret),
            allowInsecureEndpoint: allowInsecureEndpoint)
    }
}
