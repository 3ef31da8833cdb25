import Foundation
import KubeClient

/// Where the exercise's cluster comes from and how it goes away: the one part of a run that
/// differs between a real cluster (a kubeconfig source and the configured destroy and rebuild
/// commands) and the built-in simulated one. Everything else, every phase and every check, is
/// `ClusterExerciseEnvironment`'s, the same code for both.
public protocol ClusterProvisioner: Sendable {
    /// The cluster answering now, and what reaching it gives away (plain http, no certificate
    /// checks) for the log and the report. Called again after a rebuild: a new cluster usually
    /// comes with new credentials.
    func connect() async throws -> ClusterConnection
    /// What would stop destroy or rebuild from working (a command not installed, a task that
    /// does not resolve), found before anything is destroyed. Empty when all is well.
    func preflightProblems() async -> [String]
    /// Destroys the cluster.
    func destroy() async throws
    /// Builds the cluster again; its bootstrap (not the exercise) restores the volumes.
    func rebuild() async throws
    /// Releases whatever the provisioner still holds (a simulated cluster stops here).
    func shutdown() async
}

/// A way to reach one cluster.
public struct ClusterConnection: Sendable {
    public var cluster: ResolvedCluster
    public var warnings: [String]

    public init(cluster: ResolvedCluster, warnings: [String] = []) {
        self.cluster = cluster
        self.warnings = warnings
    }
}
