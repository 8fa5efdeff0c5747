//! The N-API binding: converts arguments and results, runs work on our own threads.
