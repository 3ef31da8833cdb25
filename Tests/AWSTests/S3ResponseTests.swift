import Foundation
import Testing

@testable import AWS

@Suite("S3Response.parseListObjectsV2")
struct S3ResponseTests {
    /// Hand-written in the shape S3 returns for a delimiter listing of a Longhorn backup store.
    static let truncatedPage = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>backups</Name>
          <Prefix>cluster-a/backupstore/volumes/ab/cd/pvc-1/</Prefix>
          <KeyCount>3</KeyCount>
          <MaxKeys>3</MaxKeys>
          <Delimiter>/</Delimiter>
          <IsTruncated>true</IsTruncated>
          <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
          <Contents>
            <Key>cluster-a/backupstore/volumes/ab/cd/pvc-1/volume.cfg</Key>
            <LastModified>2026-11-20T10:00:00.000Z</LastModified>
            <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>
            <Size>412</Size>
            <StorageClass>STANDARD</StorageClass>
          </Contents>
          <Contents>
            <Key>cluster-a/backupstore/volumes/ab/cd/pvc-1/backup.lck</Key>
            <LastModified>2026-11-20T10:00:01.000Z</LastModified>
            <ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag>
            <Size>0</Size>
            <StorageClass>STANDARD</StorageClass>
          </Contents>
          <CommonPrefixes>
            <Prefix>cluster-a/backupstore/volumes/ab/cd/pvc-1/backups/</Prefix>
          </CommonPrefixes>
        </ListBucketResult>
        """

    @Test("reads objects, sizes, ETags, prefixes and the continuation token")
    func truncatedPage() throws {
        let page = try S3Response.parseListObjectsV2(Data(Self.truncatedPage.utf8), bucket: "backups")
        #expect(page.bucket == "backups")
        #expect(page.prefix == "cluster-a/backupstore/volumes/ab/cd/pvc-1/")
        #expect(page.delimiter == "/")
        #expect(page.isTruncated)
        #expect(page.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(page.keyCount == 3)
        #expect(page.maxKeys == 3)
        #expect(
            page.objects == [
                S3Response.ObjectSummary(
                    key: "cluster-a/backupstore/volumes/ab/cd/pvc-1/volume.cfg",
                    size: 412,
                    eTag: "9b2cf535f27731c974343645a3985328",
                    lastModified: "2026-11-20T10:00:00.000Z",
                    storageClass: "STANDARD"
                ),
                S3Response.ObjectSummary(
                    key: "cluster-a/backupstore/volumes/ab/cd/pvc-1/backup.lck",
                    size: 0,
                    eTag: "d41d8cd98f00b204e9800998ecf8427e",
                    lastModified: "2026-11-20T10:00:01.000Z",
                    storageClass: "STANDARD"
                ),
            ]
        )
        #expect(page.commonPrefixes == ["cluster-a/backupstore/volumes/ab/cd/pvc-1/backups/"])
    }

    @Test("the last page: not truncated, no token; large sizes fit")
    func lastPage() throws {
        let xml = """
            <ListBucketResult><Name>b</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated>
            <Contents><Key>big.img</Key><Size>5497558138880</Size></Contents></ListBucketResult>
            """
        let page = try S3Response.parseListObjectsV2(Data(xml.utf8))
        #expect(!page.isTruncated)
        #expect(page.nextContinuationToken == nil)
        #expect(page.objects.map(\.size) == [5_497_558_138_880])
        #expect(page.objects.first?.eTag == nil)
    }

    @Test("an empty listing")
    func empty() throws {
        let xml = "<ListBucketResult><Name>b</Name><Prefix>nothing/</Prefix><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>"
        let page = try S3Response.parseListObjectsV2(Data(xml.utf8))
        #expect(page.objects.isEmpty)
        #expect(page.commonPrefixes.isEmpty)
        #expect(page.keyCount == 0)
    }

    @Test("encoding-type=url answers are decoded (+ is a space, %2B a plus)")
    func urlEncodedKeys() throws {
        let xml = """
            <ListBucketResult><Name>b</Name><Prefix>dir%2F</Prefix><Delimiter>%2F</Delimiter><EncodingType>url</EncodingType>
            <IsTruncated>false</IsTruncated>
            <Contents><Key>dir/a+b%2Bc%E2%82%AC.cfg</Key><Size>1</Size></Contents>
            <CommonPrefixes><Prefix>dir/sub+dir/</Prefix></CommonPrefixes></ListBucketResult>
            """
        let page = try S3Response.parseListObjectsV2(Data(xml.utf8))
        #expect(page.prefix == "dir/")
        #expect(page.delimiter == "/")
        #expect(page.objects.map(\.key) == ["dir/a b+c€.cfg"])
        #expect(page.commonPrefixes == ["dir/sub dir/"])
    }

    @Test(
        "malformed listings are errors, not silent empty pages",
        arguments: [
            ("not xml at all", "not well-formed XML"),
            ("<ListAllMyBucketsResult/>", "expected a ListBucketResult"),
            ("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", "no NextContinuationToken"),
            ("<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>", "IsTruncated is \"maybe\""),
            ("<ListBucketResult><Contents><Key>k</Key><Size>big</Size></Contents></ListBucketResult>", "not a number"),
            ("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", "has no <Key>"),
            ("<ListBucketResult><KeyCount>x</KeyCount></ListBucketResult>", "KeyCount is \"x\""),
        ] as [(String, String)]
    )
    func malformed(body: String, reason: String) {
        let error = #expect(throws: AWSError.self) { try S3Response.parseListObjectsV2(Data(body.utf8), bucket: "backups") }
        #expect(error?.code == .malformedResponse)
        #expect(error?.subject == "s3://backups")
        #expect(error?.description.contains(reason) == true, "\(String(describing: error))")
    }

    @Test("an <Error> body in a 200 answer becomes that S3 error")
    func errorInBody() {
        let xml = "<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>R1</RequestId></Error>"
        let error = #expect(throws: AWSError.self) { try S3Response.parseListObjectsV2(Data(xml.utf8), bucket: "backups") }
        #expect(error?.code == .accessDenied)
        #expect(error?.requestID == "R1")
    }
}
