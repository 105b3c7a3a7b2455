package sqlite

// WALAutocheckpointPages is for the tests of package sqlite_test.
const WALAutocheckpointPages = walAutocheckpointPages
