import AWS
import DRCore
import Exercise
import Foundation
import KubeClient

/// Turns the exercise config's kubeconfig source into a cluster to talk to. Called again after a
/// rebuild: a new cluster usually comes with new credentials (a new SSM parameter version, a new
/// file written by the rebuild).
public enum KubeconfigResolver {
    /// - Returns: the cluster, and what the way it was reached gives away (plain http, no
    ///   certificate checks), for the log and the report.
    static func resolve(
        _ source: ExerciseConfig.KubeconfigSource, context: String?, aws: ExerciseConfig.AWSAccess = .init(),
        allowExec: [String] = [], workDirectory: URL
    ) async throws -> (cluster: ResolvedCluster, warnings: [String]) {
        let path: String
        var warnings: [String] = []
        switch source {
        case .file(let file):
            path = (file as NSString).expandingTildeInPath
        case .command(let argv):
            let text = try await CommandRunner.output(argv, purpose: "kubeconfig")
            try checkFetched(text, origin: "the kubeconfig command's output", allowExec: allowExec)
            let file = workDirectory.appendingPathComponent("kubeconfig")
            try AtomicFile.write(text, to: file)
            path = file.path
        case .ssm(let parameter, let region, let profile, let destination):
            path = (destination as NSString).expandingTildeInPath
            if let warning = try await fetchFromSSM(
                parameter: parameter, region: region, profile: profile, aws: aws, allowExec: allowExec,
                to: URL(fileURLWithPath: path))
            {
                warnings.append(warning)
            }
        }
        do {
            let cluster = try KubeconfigLoader().load(.init(kubeconfigPath: path, context: context))
            return (cluster, warnings + cluster.securityWarnings.map { "warning: \($0)" })
        } catch {
            throw DRError(
                .environment, subject: "kubeconfig \(path)", detail: "\(error)", hint: "check cluster.kubeconfig in the exercise config", cause: error)
        }
    }

    /// A fetched kubeconfig may not run programs (other than allowed exec plugins) or read local
    /// files: whoever can write the parameter or feed the command would run code here.
    /// - Returns: its context names.
    /// - Throws: `DRError` `.environment` naming the origin; never quoting the content, which
    ///   holds credentials.
    @discardableResult
    static func checkFetched(_ bytes: Data, origin: String, allowExec: [String], hint: String? = nil) throws -> [String] {
        do {
            return try FetchedKubeconfig.check(bytes, origin: origin, allowExec: allowExec).contexts.map(\.name)
        } catch {
            throw DRError(.environment, subject: origin, detail: error.detail, hint: error.code == .unsupportedSetting ? error.hint : hint ?? error.hint)
        }
    }

    /// The one SSM fetch (the exercise's and `kubeconfig fetch`'s): the parameter decrypted,
    /// checked as a kubeconfig that runs nothing unexpected, and written 0600 atomically.
    /// - Returns: the parameter's version and the kubeconfig's context names.
    public static func fetchSSM(
        parameter: String, region: String, credentials: AWSCredentials, endpoint: URL?, caPEM: String? = nil, allowExec: [String],
        to file: URL
    ) async throws -> (version: Int, contexts: [String]) {
        let value = try await AWSHTTPClient.withClient(caPEM: caPEM) { http in
            try await SSMClient(http: http, region: region, credentials: credentials, endpoint: endpoint)
                .getParameter(name: parameter, withDecryption: true)
        }
        let contexts = try checkFetched(
            Data(value.value.utf8), origin: "SSM parameter \(parameter)", allowExec: allowExec,
            hint:
                "store a whole kubeconfig in the parameter (e.g. `aws ssm put-parameter --type SecureString --overwrite --name \(parameter) --value file://kubeconfig.yaml`)"
        )
        try AtomicFile.write(Data(value.value.utf8), to: file)
        return (value.version, contexts)
    }

    static func fetchFromSSM(
        parameter: String, region: String?, profile: String?, aws: ExerciseConfig.AWSAccess, allowExec: [String],
        to file: URL
    ) async throws -> String? {
        let chain = AWSCredentialChain(environment: .process(), profile: profile ?? aws.profile)
        let resolvedRegion = try region ?? chain.resolveRegion()
        let credentials = try await WorkstationAWS.credentials(aws, profile: profile)
        let environment = ProcessInfo.processInfo.environment
        let endpointText = [environment["AWS_ENDPOINT_URL_SSM"], environment["AWS_ENDPOINT_URL"]].compactMap { $0 }.first { !$0.isEmpty }
        var warning: String?
        if let endpointText {
            warning = try EndpointPolicy.require(endpointText, carrying: "the decrypted kubeconfig", allowInsecure: aws.allowInsecureEndpoint)
        }
        _ = try await fetchSSM(
            parameter: parameter, region: resolvedRegion, credentials: credentials,
            endpoint: endpointText.flatMap(URL.init(string:)), allowExec: allowExec, to: file)
        return warning
    }
}
