import Foundation
import ProcessRunner

/// Runs an exec credential plugin the way client-go does and caches its answer.
///
/// The plugin is started with an argument array, the current environment plus the kubeconfig's
/// `env` entries, `KUBERNETES_EXEC_INFO` describing the request, and no standard input. Its
/// credential is reused until `status.expirationTimestamp` passes or ``invalidate()`` is called
/// (after the API server answered 401). Concurrent callers share one plugin run.
public actor ExecCredentialProvider {
    public let plugin: ExecPluginConfiguration
    private let environment: [String: String]
    private let currentDirectory: String
    private let runner: ExecPluginRunner
    private let now: @Sendable () -> Date

    private var cached: ExecCredential?
    private var inFlight: Task<ExecCredential, any Error>?
    /// Bumped by ``invalidate()``, so a run that started before it does not refill the cache.
    private var generation = 0

    /// - Parameters:
    ///   - plugin: the validated plugin from a ``CredentialSource/exec(_:)``.
    ///   - environment: the environment the plugin inherits (its `PATH` also finds the command).
    ///   - currentDirectory: resolves a relative command path that was not made absolute by the loader.
    ///   - timeout: how long the plugin may run before it is killed.
    ///   - now: the wall clock used to compare against `expirationTimestamp`.
    public init(
        plugin: ExecPluginConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath,
        timeout: Duration = .seconds(60),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.plugin = plugin
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.runner = ExecPluginRunner(timeout: timeout)
        self.now = now
    }

    /// The current credential, running the plugin when there is none or it has expired.
    /// - Throws: ``KubeconfigError`` (`execPluginNotFound`, `execPluginFailed`, `execPluginTimedOut`,
    ///   `execPluginInvalidOutput`, `execPluginAPIVersionMismatch`); nothing is cached then.
    public func credential() async throws -> ExecCredential {
        if let cached, !cached.isExpired(at: now()) { return cached }
        if let inFlight { return try await inFlight.value }

        let startedGeneration = generation
        let plugin = self.plugin
        let environment = self.environment
        let currentDirectory = self.currentDirectory
        let runner = self.runner
        let task = Task {
            try await Self.run(plugin, environment: environment, currentDirectory: currentDirectory, runner: runner)
        }
        inFlight = task
        do {
            let credential = try await task.value
            inFlight = nil
            if generation == startedGeneration { cached = credential }
            return credential
        } catch {
            inFlight = nil
            throw error
        }
    }

    /// Forgets the cached credential, e.g. after a 401; the next ``credential()`` runs the plugin again.
    public func invalidate() {
        cached = nil
        generation += 1
    }

    // MARK: - Running the plugin

    private static func run(
        _ plugin: ExecPluginConfiguration, environment: [String: String], currentDirectory: String,
        runner: ExecPluginRunner
    ) async throws -> ExecCredential {
        let subject = "exec plugin \"\(plugin.command)\""
        guard let executable = resolveExecutable(plugin.command, path: environment["PATH"], currentDirectory: currentDirectory)
        else {
            let location = plugin.command.contains("/") ? "does not exist or is not executable" : "was not found on PATH"
            throw KubeconfigError(
                code: .execPluginNotFound, subject: subject, detail: "the credential plugin \(location)",
                hint: plugin.installHint ?? "install the plugin or fix exec.command in the kubeconfig")
        }

        var childEnvironment = environment
        for variable in plugin.env { childEnvironment[variable.name] = variable.value.revealed }
        childEnvironment["KUBERNETES_EXEC_INFO"] = try execInfo(for: plugin)

        let outcome: ExecPluginRunner.Outcome
        do {
            outcome = try await runner.run(
                executable: executable, arguments: plugin.args, environment: childEnvironment)
        } catch {
            throw KubeconfigError(
                code: .execPluginFailed, subject: subject, detail: "the credential plugin could not be started",
                hint: plugin.installHint ?? "check that \(executable) is an executable program", underlying: error)
        }

        let stderrTail = tail(of: outcome.stderr)
        if outcome.timedOut {
            throw KubeconfigError(
                code: .execPluginTimedOut, subject: subject,
                detail: "the credential plugin did not finish in \(runner.timeout) and was killed"
                    + (stderrTail.map { "; stderr: \($0)" } ?? ""),
                hint: "make sure it does not wait for input (it runs without a terminal) or for a browser login")
        }
        guard outcome.status == 0 else {
            // stderr is the plugin's diagnostic channel; stdout is never quoted (it may hold a token).
            throw KubeconfigError(
                code: .execPluginFailed, subject: subject,
                detail: "the credential plugin exited with status \(outcome.status)"
                    + (stderrTail.map { "; stderr: \($0)" } ?? ""),
                hint: plugin.installHint ?? "run the plugin by hand to see what it needs")
        }
        return try ExecCredential.parse(
            outcome.stdout, expectedAPIVersion: plugin.apiVersion, subject: subject, hint: plugin.installHint)
    }

    /// The JSON for `KUBERNETES_EXEC_INFO`: apiVersion, kind, `spec.interactive: false`, and
    /// `spec.cluster` when the kubeconfig sets `provideClusterInfo`.
    static func execInfo(for plugin: ExecPluginConfiguration) throws -> String {
        let request = ExecCredential.Request(
            apiVersion: plugin.apiVersion, spec: .init(cluster: plugin.clusterInfo, interactive: false))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(request), as: UTF8.self)
    }

    /// Finds the program to run: a command with a `/` is a path (relative to `currentDirectory`),
    /// a bare name is searched on `PATH` like a shell would.
    static func resolveExecutable(_ command: String, path: String?, currentDirectory: String) -> String? {
        ToolLocator.locate(command, path: path ?? "", currentDirectory: currentDirectory, alsoIn: [])
    }

    /// The last ~2 KB of stderr as one trimmed string, or `nil` when there was none.
    private static func tail(of data: Data) -> String? {
        let limit = 2048
        let text = String(decoding: data.suffix(limit), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return nil }
        return data.count > limit ? "…" + text : text
    }
}
