/// Runs what pods run: the kubelet stand-in that answers logs and exec.
public protocol PodRuntime: Sendable {
    /// `GET .../pods/{name}/log`.
    func logs(_ request: APIRequest, namespace: String, pod: String) async throws(APIError) -> APIResponse

    /// Checks an exec request (container known, pod running) without running anything, so a refused
    /// upgrade still answers with the precise Status.
    func validateExec(_ request: APIRequest, namespace: String, pod: String) async throws(APIError)
}

extension PodRuntime {
    public func validateExec(_ request: APIRequest, namespace: String, pod: String) async throws(APIError) {}
}
