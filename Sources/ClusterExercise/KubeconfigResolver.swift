import AWS
import DRCore
import Exercise
import Foundation
import KubeClient

/// Turns the exercise config's kubeconfig source into a cluster to talk to. Called again after a
/// rebuild: a new cluster usually comes with new credentials (a new SSM parameter version, a new
/// file written by the rebuild).
enum KubeconfigResolver {
    /// - Returns: the cluster, and what the way it was reached gives away (plain http, no
    ///   certificate checks), for the log and the report.
    static func resolve(_ source: ExerciseConfig.KubeconfigSource, context: String?, aws: ExerciseConfig.AWSAccess = .init(),
        allowExec: [String] = [], workDirectory: URL) async throws -> (cluster: ResolvedCluster, warnings: [String])
    {
        let path: String
        var warnings: [String] = []
        switch source {
        case .file(let file):
            path = (file as NSString).expandingTildeInPath
        case .command(let argv):
            let text = try await CommandRunner.output(argv, purpose: "kubeconfig")
            try checkFetched(text, origin: "the kubeconfig command's output", allowExec: allowExec)
            let file = workDirectory.appendingPathComponent("kubeconfig")
            try FileJournalStore.writePrivate(text, to: file)
            path = file.path
        case .ssm(let parameter, let region, let profile, let destination):
            path = (destination as NSString).expandingTildeInPath
            if let warning = try await fetchFromSSM(parameter: parameter, region: region, profile: profile, aws: aws, allowExec: allowExec,
                to: URL(fileURLWithPath: path))
            {
                warnings.append(warning)
            }
        }
        do {
            let cluster = try KubeconfigLoader().load(.init(kubeconfigPath: path, context: context))
            return (cluster, warnings + cluster.securityWarnings.map { "warning: \($0)" })
        } catch {
            throw DRError(.environment, subject: "kubeconfig \(path)", detail: "\(error)", hint: "check cluster.kubeconfig in the exercise config")
        }
    }

    /// A fetched kubeconfig may not run programs (other than allowed exec plugins) or read local
    /// files: whoever can write the parameter or feed the command would run code here.
    static func checkFetched(_ bytes: Data, origin: String, allowExec: [String]) throws {
        do {
            _ = try FetchedKubeconfig.check(bytes, origin: origin, allowExec: allowExec)
        } catch {
            throw DRError(.environment, subject: origin, detail: error.detail, hint: error.hint)
        }
    }

    static func fetchFromSSM(parameter: String, region: String?, profile: String?, aws: ExerciseConfig.AWSAccess, allowExec: [String],
        to file: URL) async throws -> String?
    {
        let chain = AWSCredentialChain(environment: .process(), profile: profile ?? aws.profile)
        let resolvedRegion = try region ?? chain.resolveRegion()
        let credentials = try await WorkstationAWS.credentials(aws, profile: profile)
        let environment = ProcessInfo.processInfo.environment
        let endpointText = [environment["AWS_ENDPOINT_URL_SSM"], environment["AWS_ENDPOINT_URL"]].compactMap { $0 }.first { !$0.isEmpty }
        var warning: String?
        if let endpointText {
            warning = try EndpointPolicy.require(endpointText, carrying: "the decrypted kubeconfig", allowInsecure: aws.allowInsecureEndpoint)
        }
        let endpoint = endpointText.flatMap(URL.init(string:))
        let value = try await AWSHTTPClient.withClient { http in
            try await SSMClient(http: http, region: resolvedRegion, credentials: credentials, endpoint: endpoint)
                .getParameter(name: parameter, withDecryption: true)
        }
        try checkFetched(Data(value.value.utf8), origin: "SSM parameter \(parameter)", allowExec: allowExec)
        try FileJournalStore.writePrivate(Data(value.value.utf8), to: file)
        return warning
    }
}
