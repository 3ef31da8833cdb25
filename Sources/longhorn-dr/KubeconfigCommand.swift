import AWS
import ArgumentParser
import ClusterExercise
import DRCore
import Exercise
import Foundation
import KubeClient

struct KubeconfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubeconfig",
        abstract: "Fetch cluster kubeconfigs.",
        subcommands: [KubeconfigFetchCommand.self])
}

/// `longhorn-dr kubeconfig fetch`: reads a kubeconfig from SSM Parameter Store, checks that it is
/// one, and writes it atomically with mode 0600. The content is never printed.
struct KubeconfigFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch a kubeconfig from AWS SSM Parameter Store and write it with mode 0600.",
        discussion: """
            The parameter is read with decryption (SecureString). It must parse as a kubeconfig with at \
            least one cluster and one context, or nothing is written. The file is written to a temporary \
            name and renamed, so a reader never sees half a file. \
            Exit status: 0 written, 2 bad arguments, 3 credentials missing, parameter missing or not a \
            kubeconfig, 4 SSM unreachable.
            """)

    @Option(help: "The SSM parameter name, e.g. /homelab/kubernetes/dev/kubeconfig.")
    var parameter: String

    @Option(help: "Where to write the kubeconfig, e.g. ~/.kube/dev.yaml.")
    var path: String

    @Option(help: ArgumentHelp("A custom SSM endpoint (default: AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL, then AWS).", valueName: "url"))
    var endpoint: String?

    @Option(
        name: .customLong("allow-exec"),
        help: ArgumentHelp(
            "Let the fetched kubeconfig's exec plugin with this program name run (e.g. aws); repeatable. Without it, exec plugins and local file references are refused.",
            valueName: "program"))
    var allowExec: [String] = []

    @OptionGroup var aws: AWSOptions

    func validate() throws {
        guard parameter.hasPrefix("/") || parameter.hasPrefix("arn:") || !parameter.contains(" ") else {
            throw ValidationError("--parameter must be a parameter name such as /homelab/kubernetes/dev/kubeconfig")
        }
        guard !path.isEmpty else { throw ValidationError("--path must name the file to write") }
    }

    func run() async throws {
        do {
            try await fetch()
        } catch {
            throw FailureMapping.drError(error)
        }
    }

    private func fetch() async throws {
        let chain = aws.chain()
        let region = try aws.resolveRegion(chain: chain)
        let credentials = try await aws.resolveCredentials(secret: nil)
        let endpointURL = try ssmEndpoint()
        let destination = (path as NSString).expandingTildeInPath
        let fetched = try await KubeconfigResolver.fetchSSM(
            parameter: parameter, region: region, credentials: credentials, endpoint: endpointURL,
            caPEM: try aws.caPEM(secret: nil), allowExec: allowExec, to: URL(fileURLWithPath: destination))
        print(
            "wrote \(destination) (mode 0600) from SSM parameter \(parameter), version \(fetched.version); "
                + "contexts: \(fetched.contexts.joined(separator: ", "))")
    }

    private func ssmEndpoint() throws -> URL? {
        let environment = ProcessInfo.processInfo.environment
        let text =
            endpoint
            ?? [environment["AWS_ENDPOINT_URL_SSM"], environment["AWS_ENDPOINT_URL"]]
            .compactMap { $0 }.first { !$0.isEmpty }
        guard let text else { return nil }
        guard let url = URL(string: text), url.host() != nil else {
            throw DRError(.usage, subject: "SSM endpoint \"\(text)\"", detail: "is not a URL", hint: "write it as https://host[:port]")
        }
        if let warning = try EndpointPolicy.require(text, carrying: "the decrypted kubeconfig and your AWS signature", allowInsecure: aws.allowInsecureEndpoint)
        {
            Terminal.note(warning)
        }
        return url
    }

}
