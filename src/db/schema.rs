//! Diesel's view of the tables, shared by SQLite and PostgreSQL (see migrations/).
// Kept in step with migrations/ by hand; every integration test runs both backends through it.

diesel::table! {
    sessions (id) {
        id -> Text,
        started_at -> BigInt,
        last_event_at -> BigInt,
        ended_at -> Nullable<BigInt>,
        url -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        event_count -> BigInt,
        raw_bytes -> BigInt,
        stored_bytes -> BigInt,
        first_event_ts -> Nullable<BigInt>,
        last_seq -> BigInt,
        project_id -> Text,
        user_id -> Nullable<Text>,
        traits -> Nullable<Text>,
        browser -> Nullable<Text>,
        os -> Nullable<Text>,
        device -> Nullable<Text>,
        viewport_width -> Nullable<BigInt>,
        viewport_height -> Nullable<BigInt>,
        page_count -> BigInt,
        duration_ms -> BigInt,
        active_ms -> BigInt,
        error_count -> BigInt,
        click_count -> BigInt,
        rage_click_count -> BigInt,
        custom_event_count -> BigInt,
        exit_url -> Nullable<Text>,
        numbered -> Bool,
    }
}

diesel::table! {
    numbers_days (project_id, day) {
        project_id -> Text,
        day -> BigInt,
        sessions -> BigInt,
        errored -> BigInt,
    }
}

diesel::table! {
    numbers_hist (project_id, day, metric, bucket) {
        project_id -> Text,
        day -> BigInt,
        metric -> Integer,
        bucket -> Integer,
        sessions -> BigInt,
    }
}

diesel::table! {
    numbers_pages (project_id, day, url) {
        project_id -> Text,
        day -> BigInt,
        url -> Text,
        visits -> BigInt,
        entries -> BigInt,
        exits -> BigInt,
        rage_clicks -> BigInt,
    }
}

diesel::table! {
    numbers_events (project_id, day, name) {
        project_id -> Text,
        day -> BigInt,
        name -> Text,
        sessions -> BigInt,
    }
}

diesel::table! {
    session_pages (session_id, url) {
        session_id -> Text,
        url -> Text,
    }
}

diesel::table! {
    session_events (session_id, name) {
        session_id -> Text,
        name -> Text,
    }
}

diesel::table! {
    event_chunks (session_id, first_seq) {
        session_id -> Text,
        first_seq -> BigInt,
        last_seq -> BigInt,
        first_ts -> BigInt,
        last_ts -> BigInt,
        event_count -> Integer,
        meta_seq -> Nullable<BigInt>,
        meta_ts -> Nullable<BigInt>,
        raw_len -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    users (username) {
        username -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    user_sessions (token_hash) {
        token_hash -> Text,
        username -> Text,
        csrf -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        username -> Text,
        name -> Text,
        token_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    projects (id) {
        id -> Text,
        public_key -> Nullable<Text>,
        allowed_origins -> Text,
        retention_days -> Integer,
        created_at -> BigInt,
        record_mode -> Text,
        sample_percent -> Integer,
        sample_urls -> Text,
    }
}

diesel::table! {
    project_members (project_id, username) {
        project_id -> Text,
        username -> Text,
    }
}

diesel::table! {
    session_access (id) {
        id -> Text,
        session_key -> Text,
        project_id -> Text,
        username -> Text,
        kind -> Text,
        at -> BigInt,
    }
}

diesel::table! {
    session_owners (session_id) {
        session_id -> Text,
        owner -> Text,
        lease_until -> BigInt,
        epoch -> BigInt,
    }
}

diesel::table! {
    heatmap_points (project_id, kind, bucket, path, day, selector, gx, gy) {
        project_id -> Text,
        kind -> Text,
        bucket -> Text,
        path -> Text,
        day -> BigInt,
        selector -> Text,
        gx -> BigInt,
        gy -> BigInt,
        count -> BigInt,
        px_sum -> BigInt,
        py_sum -> BigInt,
    }
}

diesel::table! {
    heatmap_snapshots (project_id, path, bucket) {
        project_id -> Text,
        path -> Text,
        bucket -> Text,
        session_id -> Text,
        meta_seq -> BigInt,
        full_seq -> BigInt,
        width -> BigInt,
        height -> BigInt,
        taken_at -> BigInt,
    }
}

diesel::joinable!(event_chunks -> sessions (session_id));
diesel::joinable!(session_pages -> sessions (session_id));
diesel::joinable!(session_events -> sessions (session_id));
diesel::joinable!(project_members -> projects (project_id));
diesel::joinable!(project_members -> users (username));
diesel::joinable!(user_sessions -> users (username));
diesel::joinable!(api_tokens -> users (username));
diesel::allow_tables_to_appear_in_same_query!(
    sessions,
    event_chunks,
    users,
    user_sessions,
    api_tokens,
    projects,
    project_members,
    session_access,
    session_pages,
    session_events,
    session_owners,
    heatmap_points,
    heatmap_snapshots,
    numbers_days,
    numbers_hist,
    numbers_pages,
    numbers_events
);
