import Foundation

/// What the loader may look at outside its arguments: environment variables, the home and current
/// directories, the service-account folder, and a way to read files.
///
/// Injected so tests never touch the real home directory or `/var/run/secrets`; ``live`` is the
/// real process environment.
public struct KubeconfigEnvironment: Sendable {
    /// Environment variables (`KUBECONFIG`, `KUBERNETES_SERVICE_HOST`, `PATH`, …).
    public var variables: [String: String]
    /// The user's home directory; `nil` when unknown, in which case `~/.kube/config` is skipped.
    public var homeDirectory: String?
    /// Relative `--kubeconfig` and `$KUBECONFIG` entries are relative to this folder.
    public var currentDirectory: String
    /// Folder with the pod's `token`, `ca.crt` and `namespace`.
    public var serviceAccountDirectory: String
    /// Reads a whole file: `nil` when it does not exist, throws when it exists but cannot be read.
    public var readFile: @Sendable (String) throws -> Data?

    public init(
        variables: [String: String],
        homeDirectory: String?,
        currentDirectory: String,
        serviceAccountDirectory: String = KubeconfigEnvironment.defaultServiceAccountDirectory,
        readFile: @escaping @Sendable (String) throws -> Data? = KubeconfigEnvironment.readFileFromDisk
    ) {
        self.variables = variables
        self.homeDirectory = homeDirectory
        self.currentDirectory = currentDirectory
        self.serviceAccountDirectory = serviceAccountDirectory
        self.readFile = readFile
    }

    /// Where Kubernetes mounts the service account into every pod.
    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The real process: its environment, `$HOME` (else the account's home folder), its working directory.
    public static var live: KubeconfigEnvironment {
        let variables = ProcessInfo.processInfo.environment
        let home = variables["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return KubeconfigEnvironment(
            variables: variables,
            homeDirectory: home.isEmpty ? nil : home,
            currentDirectory: FileManager.default.currentDirectoryPath)
    }

    /// Reads from the real file system; a missing file (or missing parent folder) gives `nil`.
    @Sendable public static func readFileFromDisk(_ path: String) throws -> Data? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }
}
