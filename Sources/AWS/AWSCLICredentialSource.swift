import Foundation
import ProcessRunner

/// Credentials from the `aws` CLI, for everything the built-in chain does not do itself (SSO,
/// assume-role chains, credential_process, MFA caches).
///
/// Runs `aws configure export-credentials --format process [--profile NAME]` directly, as an
/// argument array (no shell, so nothing in a profile name is ever interpreted), and reads the
/// credential-process JSON it prints. The JSON holds secrets: it is never logged, and errors quote
/// only the CLI's standard error.
public struct AWSCLICredentialSource: Sendable {
    /// The `aws` executable: a path, or a name looked up on `PATH`.
    public var executable: String
    public var profile: String?
    public var environment: [String: String]

    public init(executable: String = "aws", profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.executable = executable
        self.profile = profile
        self.environment = environment
    }

    /// The arguments passed to the CLI (without the executable).
    public var arguments: [String] {
        var arguments = ["configure", "export-credentials", "--format", "process"]
        if let profile, !profile.isEmpty { arguments += ["--profile", profile] }
        return arguments
    }

    /// Runs the CLI and returns its credentials.
    /// - Throws: `AWSError` `.credentialProcessFailed` when the CLI is missing, exits non-zero, or
    ///   prints something that is not credential-process JSON.
    public func resolve() async throws(AWSError) -> AWSCredentials {
        let subject = "aws CLI (\(([executable] + arguments).joined(separator: " ")))"
        guard let path = Self.locate(executable, path: environment["PATH"] ?? "") else {
            throw AWSError(
                code: .credentialProcessFailed, subject: subject, detail: "the aws CLI is not installed or not on PATH",
                hint: "install AWS CLI v2 (it has `configure export-credentials`), or use environment variables or a profile")
        }
        let output: (status: Int32, stdout: Data, stderr: Data)
        do {
            output = try await Self.run(path, arguments: arguments, environment: environment)
        } catch {
            throw AWSError(code: .credentialProcessFailed, subject: subject, detail: "could not start: \(error)", underlying: error)
        }
        guard output.status == 0 else {
            let stderr = AWSError.condense(String(decoding: output.stderr.suffix(2048), as: UTF8.self))
            throw AWSError(
                code: .credentialProcessFailed, subject: subject,
                detail: "exited with status \(output.status)" + (stderr.isEmpty ? "" : ": \(stderr)"),
                hint: "run the same command yourself; for SSO profiles run `aws sso login --profile \(profile ?? "default")` first")
        }
        struct ProcessCredentials: Decodable {
            var Version: Int?
            var AccessKeyId: String
            var SecretAccessKey: String
            var SessionToken: String?
        }
        guard let decoded = try? JSONDecoder().decode(ProcessCredentials.self, from: output.stdout),
            !decoded.AccessKeyId.isEmpty, !decoded.SecretAccessKey.isEmpty
        else {
            throw AWSError(
                code: .credentialProcessFailed, subject: subject,
                detail: "did not print credential-process JSON with AccessKeyId and SecretAccessKey",
                hint: "this needs AWS CLI v2; check `aws --version`")
        }
        return AWSCredentials(
            accessKeyID: decoded.AccessKeyId, secretAccessKey: decoded.SecretAccessKey,
            sessionToken: decoded.SessionToken.flatMap { $0.isEmpty ? nil : $0 },
            source: "aws CLI" + (profile.map { " profile \"\($0)\"" } ?? ""))
    }

    /// Finds `name` on `path` (or checks it directly when it contains a `/`).
    static func locate(_ name: String, path: String) -> String? {
        ToolLocator.locate(name, path: path, alsoIn: [])
    }

    /// Runs a program without a shell and collects its output.
    static func run(_ executable: String, arguments: [String], environment: [String: String]) async throws -> (status: Int32, stdout: Data, stderr: Data) {
        let outcome = try await ProcessRunner.run(
            ProcessRequest(
                executable: executable, arguments: arguments, environment: environment,
                timeout: .seconds(120), grace: .seconds(2), drainLimit: .seconds(1)))
        return (outcome.status, outcome.standardOutput, outcome.standardError)
    }
}
