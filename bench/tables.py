"""One set-based INSERT … SELECT per legacy table, shaped like ``contract/legacy/sample_data.sql``.

Each statement draws a few uniform randoms per row in an inner subquery (a subquery with
volatile outputs is not flattened, so each row gets its own draws) and builds the row from
them in the outer query. A ``random() < share`` filter is written on a drawn column too:
in a WHERE clause the planner may push it down to the one-row side of a join, where it
would be drawn once per platform instead of once per row.

Parameters (``%(name)s``) are bound by psycopg:

- ``first``, ``n``: the generated users are ids ``first .. first + n - 1``
- ``skew``, ``stride``: the owner distribution (``shapes.skewed``)
- ``lo``, ``hi``, ``count``: this chunk's row numbers and the table's total rows
- ``offset``: the table's max(id) before generation (sample rows keep their ids)
- the defect rates of ``generate.DEFECTS``

Planted defects (the kinds of the sample data, at small rates) are marked "P…" as in the
sample's header.
"""

from bench.shapes import digits, hex_chars, pick, pick_by, skewed, timeline, weighted

OWNER = skewed("%(first)s", "%(n)s", "%(skew)s", "%(stride)s")
SERIES = "generate_series(%(lo)s::int, %(hi)s::int) AS g"
WHEN = timeline("g", "%(count)s")

PLATFORMS = [("instagram", 35), ("facebook", 25), ("twitter", 25), ("linkedin", 15)]
FIRST_NAMES = [
    "maria", "jamal", "priya", "tom", "ana", "li", "omar", "sofia", "kenji", "grace",
    "diego", "fatima", "noah", "emma", "ravi", "chloe", "ivan", "zara", "leo", "mia",
]  # fmt: skip
LAST_NAMES = [
    "gonzalez", "reed", "nair", "becker", "silva", "wang", "haddad", "rossi", "sato",
    "turner", "lopez", "khan", "miller", "dubois", "patel", "kim", "novak", "okafor",
]  # fmt: skip
BUSINESSES = [
    "sunrisebakery", "peakfitstudio", "greenleafdental", "harborcoffee", "bluefinsushi",
    "maplelegal", "brightsmiles", "urbanbloom", "corevet", "tidewatercycles", "northpaws",
    "lumenyoga", "copperkettle", "atlasroofing", "willowspa",
]  # fmt: skip
OPENERS = [
    "Fresh out of the oven:", "New this week:", "Quick tip:", "Reminder:", "Big news!",
    "We are hiring:", "Weekend special:", "Behind the scenes:", "Customer spotlight:",
    "Holiday hours:", "Did you know?", "Thank you all:",
]  # fmt: skip
MIDDLES = [
    "cardamom buns are back this weekend", "our 6am HIIT class has two spots left",
    "floss before you brush, not after", "we open at 7am on Monday",
    "the new seasonal menu is live", "a part-time morning role is open",
    "members get a month half price", "our team volunteered at the food bank",
    "pre-orders close Sunday at noon", "we now take online bookings",
]  # fmt: skip
CLOSERS = [
    "Come early, they sell out by 10.", "DM us for details!", "Link in bio.",
    "See you soon.", "Tag a friend who needs this.", "Book today.", "#smallbusiness",
    "Questions? Reply below.",
]  # fmt: skip
COMMENTS = [
    "Do you have anything gluten free??", "Best buns in town, period.",
    "What time do you open tomorrow?", "I want a refund, this was terrible.",
    "Is parking available?", "Love this!!", "Can I book for Saturday?",
    "Still waiting on my order from last week.", "Do you deliver to Eastside?",
    "Your staff is amazing", "How much is a cleaning?", "Are dogs allowed inside?",
]  # fmt: skip
REPLIES = [
    "Thank you!! See you this weekend.", "We open at 7am tomorrow.",
    "So sorry to hear this. Please DM us your order number.",
    "Yes, there is free parking behind the building.", "Book online or call us any time.",
    "We bake one gluten-reduced loaf on Fridays.",
]  # fmt: skip
HASHTAGS = ["#bakery", "#fitness", "#dentist", "#coffee", "#smallbusiness", "#local", "#atx"]
ERRORS = [
    "(#200) Requires pages_manage_posts permission",
    "(#4) Application request limit reached",
    "Rate limit exceeded",
    "Instagram API error: (#10) Application does not have permission for this action",
]
TIMEZONES = ["UTC", "America/Chicago", "America/New_York", "America/Denver", "Europe/Berlin"]
TOPICS = ["hours", "allergens", "insurance", "pricing", "parking", "booking", "returns"]


def _random_columns(count: int) -> str:
    return ", ".join(f"random() AS r{i}" for i in range(1, count + 1))


REGISTRATION_KEYS = f"""
INSERT INTO registration_keys (id, key, description, max_uses, current_uses, expires_at,
    email_domain_restriction, is_active, created_at, created_by)
SELECT translate(encode(decode(md5('bench-key-' || g), 'hex'), 'base64'), '+/=', '-_'),
    translate(encode(decode(md5('key-a' || g) || md5('key-b' || g), 'hex'), 'base64'),
        '+/=', '-_'),
    'Auto-generated key for first user: user' || g, 1,
    CASE WHEN g <= %(keys_used)s THEN 1
         WHEN mod(g, %(claimed_every)s) = 0 THEN 1  -- P1e: claimed, yet no user has it
         ELSE 0 END,
    created + interval '1 hour', NULL, g > %(keys_used)s, created, NULL
FROM (SELECT g, {WHEN} AS created FROM {SERIES}) AS s
"""

USERS = f"""
INSERT INTO users (id, email, username, full_name, hashed_password, is_active, tier,
    auth_provider, registration_key_id, created_at, updated_at, two_factor_enabled,
    two_factor_secret, two_factor_backup_codes, is_superuser, is_verified, email_verified,
    subscription_status, email_verification_token, email_verification_sent_at,
    password_reset_token, password_reset_sent_at, subscription_end_date, stripe_customer_id,
    stripe_subscription_id, default_organization_id)
SELECT %(offset)s + g,
    CASE WHEN mod(g, %(case_duplicate_every)s) = 0
         THEN initcap(email_of_previous)  -- P4a: a case-duplicate of the previous email
         ELSE email END,
    first_name || '_' || g, initcap(first_name) || ' ' || initcap(last_name),
    '$2b$12$' || {hex_chars(53)}, r1 >= 0.04, tier,
    CASE WHEN r2 < 0.85 THEN 'local' ELSE 'google' END,
    CASE WHEN g <= %(keys_used)s
         THEN translate(encode(decode(md5('bench-key-' || g), 'hex'), 'base64'), '+/=', '-_')
         END,
    CASE WHEN g::float8 / %(count)s BETWEEN 0.70 AND 0.70 + %(null_created_at)s
         THEN NULL ELSE created END,  -- P3a: a deploy window that wrote no created_at
    CASE WHEN r3 < 0.7 THEN created + r4 * interval '30 days' END,
    r5 < 0.08, CASE WHEN r5 < 0.08 THEN upper({hex_chars(32)}) END,
    CASE WHEN r5 < 0.08 THEN '["7F33-BC28", "65B9-01F4", "7CA3-BC53", "D3FA-CB25"]' END,
    false, r3 < 0.3, r1 >= 0.15,
    CASE WHEN tier = 'free' OR r4 < 0.05 THEN 'free'  -- P5: a paid tier marked free
         WHEN r4 < 0.85 THEN 'active' WHEN r4 < 0.93 THEN 'canceled' ELSE 'past_due' END,
    CASE WHEN r1 < 0.15 THEN {hex_chars(43)} END,
    CASE WHEN r1 < 0.15 THEN created END,
    CASE WHEN r2 < 0.01 THEN {hex_chars(43)} END,
    CASE WHEN r2 < 0.01 THEN created + interval '3 days' END,
    CASE WHEN tier <> 'free' THEN created + interval '400 days' END,
    CASE WHEN tier <> 'free' THEN 'cus_' || {hex_chars(14)} END,
    CASE WHEN tier <> 'free' THEN 'sub_' || {hex_chars(24)} END,
    NULL
FROM (
    SELECT g, first_name, last_name, created, r1, r2, r3, r4, r5,
        first_name || '.' || last_name || g || '@' || business || '.example' AS email,
        {pick_by("g + 1", FIRST_NAMES)} || '.' || {pick_by("(g - 1) * 7", LAST_NAMES)}
            || (g - 1) || '@' || {pick_by("(g - 1) * 3", BUSINESSES)} || '.example'
            AS email_of_previous,
        {weighted("r6", [("free", 65), ("pro", 25), ("premium", 8), ("enterprise", 2)])}
            AS tier
    FROM (
        SELECT g, {pick_by("g + 2", FIRST_NAMES)} AS first_name,
            {pick_by("g * 7", LAST_NAMES)} AS last_name,
            {pick_by("g * 3", BUSINESSES)} AS business,
            {WHEN} AS created, {_random_columns(6)}
        FROM {SERIES}
    ) AS d
) AS s
"""

ADMIN_USERS = f"""
INSERT INTO admin_users (id, username, email, hashed_password, role, is_active, created_at,
    last_login)
SELECT %(offset)s + g, 'admin_' || g, 'admin' || g || '@lilymedia.example',
    '$2b$12$' || {hex_chars(53)},
    {weighted("r1", [("ADMIN", 60), ("MODERATOR", 35), ("SUPER_ADMIN", 5)])}::adminrole,
    r2 < 0.8, created, CASE WHEN r2 < 0.8 THEN created + r2 * interval '30 days' END
FROM (SELECT g, {WHEN} AS created, {_random_columns(2)} FROM {SERIES}) AS s
"""

USER_SETTINGS = f"""
INSERT INTO user_settings (id, user_id, brand_name, brand_voice, primary_color, logo_url,
    content_frequency, preferred_platforms, posting_times, creativity_level,
    enable_autonomous_mode, timezone, connected_accounts, default_response_personality,
    auto_response_enabled, created_at, updated_at, industry_type, brand_keywords)
SELECT %(offset)s + row_number() OVER (ORDER BY id, duplicate), id,
    CASE WHEN NOT duplicate THEN initcap(split_part(split_part(email, '@', 2), '.', 1)) END,
    CASE WHEN duplicate THEN 'professional'
         ELSE {pick(["professional", "friendly", "energetic", "casual"])} END,
    '#' || {hex_chars(6)},
    CASE WHEN r1 < 0.4 THEN 'https://cdn.example/logos/' || id || '.png' END,
    1 + floor(r2 * 7)::int,
    '["instagram", "facebook"]', '{{"instagram": "07:30", "facebook": "11:00"}}',
    round((0.3 + r3 * 0.6)::numeric, 2), r4 < 0.2, {pick(TIMEZONES)},
    CASE WHEN r1 < 0.2
         THEN ('{{"twitter": {{"access_token": "DUMMY-TW-' || id
               || '", "refresh_token": "DUMMY-TW-R-' || id || '"}}}}')::json
         WHEN r1 < 0.5 THEN '{{}}'::json END,
    {pick(["professional", "friendly", "casual"])}, r4 < 0.3,
    (created + interval '2 hours') AT TIME ZONE 'UTC',
    CASE WHEN r2 < 0.5 THEN (created + interval '9 days') AT TIME ZONE 'UTC' END,
    {pick(["general", "food_beverage", "fitness", "healthcare", "retail"])},
    '["local", "family owned"]'
FROM (
    SELECT u.id, u.email, coalesce(u.created_at, timestamp '2025-01-01') AS created,
        d.duplicate, d.share, random() AS keep, {_random_columns(4)}
    FROM users AS u
    CROSS JOIN (VALUES (false, %(settings_share)s::float8),
                       (true, %(duplicate_settings)s::float8)) AS d (duplicate, share)  -- P4b
    WHERE u.id >= %(first)s
) AS s
WHERE keep < share
"""

MEMORIES = f"""
INSERT INTO memories (id, user_id, content, memory_type, vector_id, relevance_score,
    memory_metadata, tags, created_at, updated_at, access_count, last_accessed)
SELECT %(offset)s + g, user_id,
    {pick(["Posts featuring", "Short tips about", "Promotions about", "Videos of"])} || ' '
        || {pick(["pastries", "classes", "cleanings", "coffee", "events"])} || ' '
        || {pick(["get about 2x the saves.", "underperform.", "do best in the morning."])},
    {weighted("r1", [("insight", 50), ("brand_guideline", 20), ("preference", 20), ("fact", 10)])},
    'mem_' || {hex_chars(16)}, round(r2::numeric, 2),
    '{{"source": "engagement_analysis", "window_days": 14}}', '["instagram"]',
    created AT TIME ZONE 'UTC',
    CASE WHEN r3 < 0.3 THEN (created + interval '3 days') AT TIME ZONE 'UTC' END,
    floor(r3 * 20)::int, (created + r3 * interval '20 days') AT TIME ZONE 'UTC'
FROM (SELECT g, {OWNER} AS user_id, {WHEN} AS created, {_random_columns(3)} FROM {SERIES}) AS s
"""

CONTENT = f"""
INSERT INTO content (id, user_id, title, content, platform, status, scheduled_at, published_at,
    engagement_data, performance_score, ai_model, prompt_used, generation_params, memory_id,
    created_at, updated_at)
SELECT %(offset)s + g, s.user_id, left(body, 30), body, platform, status,
    CASE WHEN status = 'scheduled' THEN (created + interval '1 day') AT TIME ZONE 'UTC' END,
    CASE WHEN status = 'published' THEN (created + interval '5 minutes') AT TIME ZONE 'UTC' END,
    CASE WHEN status = 'published'
         THEN jsonb_build_object('likes', floor(r2 * r2 * 400)::int,
                                 'comments', floor(r2 * 30)::int)::text::json
         ELSE '{{}}'::json END,
    CASE WHEN status = 'published' THEN round(r2::numeric, 2) ELSE 0.0 END,
    {pick(["gpt-5-mini", "gpt-4o", "claude-sonnet"])},
    'Write a short, warm ' || platform || ' post.', '{{"temperature": 0.7}}',
    CASE WHEN r3 < 0.4 AND m.ids IS NOT NULL
         THEN m.ids[1 + floor(r3 / 0.4 * cardinality(m.ids))::int] END,
    created AT TIME ZONE 'UTC',
    CASE WHEN r3 >= 0.5 THEN (created + interval '3 minutes') AT TIME ZONE 'UTC' END
FROM (
    SELECT g, user_id, created, r2, r3,
        {weighted("r1", PLATFORMS)} AS platform,
        {weighted("r4", [("published", 60), ("scheduled", 10), ("draft", 30)])} AS status,
        {pick(OPENERS)} || ' ' || {pick(MIDDLES)} || '. ' || {pick(CLOSERS)} AS body
    FROM (SELECT g, {OWNER} AS user_id, {WHEN} AS created, {_random_columns(4)}
          FROM {SERIES}) AS d
) AS s
LEFT JOIN (SELECT user_id, array_agg(id) AS ids FROM memories GROUP BY user_id) AS m
    ON m.user_id = s.user_id
"""

CONTENT_LOGS = f"""
INSERT INTO content_logs (id, user_id, platform, content, content_type, metadata,
    scheduled_time, published_at, status, engagement_score, created_at, updated_at,
    engagement_data, scheduled_for, platform_post_id, external_post_id)
SELECT %(offset)s + g, user_id, platform, body, content_type,
    CASE WHEN content_type = 'image' AND r3 < 0.5
         THEN jsonb_build_object('hashtags', jsonb_build_array({pick(HASHTAGS)},
                                                               {pick(HASHTAGS)}),
                                 'image_url', 'https://cdn.example/posts/' || g || '.jpg'
              )::text::json END,
    CASE WHEN status = 'scheduled' AND r3 < %(scheduled_without_for)s
         THEN created + interval '1 day' END,  -- P3b: only the legacy column is set
    CASE WHEN status = 'published' THEN created + r2 * interval '10 minutes' END,
    status, 0.0, created,
    CASE WHEN r2 < 0.4 THEN created + r3 * interval '3 days' END,
    CASE status
        WHEN 'published' THEN jsonb_build_object(
            'likes', floor(r2 * r2 * 500)::int, 'comments', floor(r2 * r3 * 40)::int,
            'shares', floor(r3 * 25)::int, 'reach', floor(r2 * 5000)::int,
            'impressions', floor(r2 * 6500)::int,
            'fetched_at', to_char(created + interval '1 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
        WHEN 'failed' THEN jsonb_build_object('error', {pick(ERRORS)},
                                              'attempts', 1 + floor(r3 * 3)::int)
        ELSE '{{}}'::jsonb END,
    CASE WHEN status = 'scheduled' AND r3 >= %(scheduled_without_for)s
         THEN (created + interval '1 day') AT TIME ZONE 'UTC'
         WHEN status = 'published' AND r3 < 0.3 THEN created AT TIME ZONE 'UTC' END,
    post_id, CASE WHEN r3 < 0.5 THEN post_id END
FROM (
    SELECT g, user_id, created, platform, status, r2, r3,
        {weighted("r5", [("text", 60), ("image", 30), ("video", 10)])} AS content_type,
        {pick(OPENERS)} || ' ' || {pick(MIDDLES)} || '. ' || {pick(CLOSERS)} AS body,
        CASE WHEN status = 'published' THEN
            CASE platform WHEN 'instagram' THEN '179' || lpad(g::text, 14, '0')
                          WHEN 'facebook' THEN '1122334455' || '_' || lpad(g::text, 15, '0')
                          WHEN 'twitter' THEN '18' || lpad(g::text, 17, '0')
                          ELSE 'urn:li:share:' || lpad(g::text, 19, '0') END
        END AS post_id
    FROM (
        SELECT g, user_id, created, r2, r3, r5,
            {weighted("r1", PLATFORMS)} AS platform,
            {
    weighted("r4", [("published", 70), ("draft", 17), ("scheduled", 8), ("failed", 5)])
} AS status
        FROM (SELECT g, {OWNER} AS user_id, {WHEN} AS created, {_random_columns(5)}
              FROM {SERIES}) AS d
    ) AS c
) AS s
"""

NOTIFICATIONS = f"""
INSERT INTO notifications (id, user_id, title, message, notification_type, priority, goal_id,
    content_id, workflow_id, is_read, is_dismissed, read_at, action_url, action_label,
    notification_metadata, created_at, expires_at)
SELECT %(offset)s + g, user_id,
    CASE kind WHEN 'success' THEN 'Post published' WHEN 'error' THEN 'Publishing failed'
              WHEN 'warning' THEN 'Token expires soon' ELSE 'New comment needs a reply' END,
    CASE WHEN r2 < 0.97 THEN
        CASE kind WHEN 'success' THEN 'Your post is live.'
                  WHEN 'error' THEN 'The platform rejected the post.'
                  WHEN 'warning' THEN 'Reconnect your account within 7 days.'
                  ELSE 'A customer asked a question.' END
    END,
    kind, {weighted("r3", [("medium", 50), ("low", 30), ("high", 20)])},
    CASE WHEN r4 < %(goal_share)s
         THEN 1 + floor(r5 * 500)::int END,  -- P1d: there is no goals table
    CASE WHEN r4 >= %(goal_share)s AND r4 < %(goal_share)s + %(content_share)s THEN
        CASE WHEN r5 < %(orphan_content)s
             THEN %(content_max)s + 1 + floor(r2 * 1000)::int  -- P1d: no such content
             ELSE 1 + floor(r5 * %(content_max)s)::int END
    END,
    NULL, r2 < 0.6, r2 < 0.1, CASE WHEN r2 < 0.6 THEN created + interval '2 hours' END,
    CASE kind WHEN 'info' THEN '/inbox' ELSE '/content/history' END,
    CASE kind WHEN 'info' THEN 'Open inbox' ELSE 'View post' END,
    CASE WHEN r3 < 0.7
         THEN jsonb_build_object('platform', {pick([p for p, _ in PLATFORMS])})::text::json
         END,
    created, CASE WHEN r3 < 0.2 THEN created + interval '7 days' END
FROM (
    SELECT g, user_id, created, r2, r3, r4, r5,
        {weighted("r1", [("info", 50), ("success", 35), ("error", 10), ("warning", 5)])}
            AS kind
    FROM (SELECT g, {OWNER} AS user_id, {WHEN} AS created, {_random_columns(5)}
          FROM {SERIES}) AS d
) AS s
"""

COMPANY_KNOWLEDGE = f"""
INSERT INTO company_knowledge (id, user_id, title, topic, content, summary, keywords, tags,
    embedding_vector, context_type, platforms, usage_count, effectiveness_score, is_active,
    created_at, updated_at)
SELECT %(offset)s + g, user_id, initcap(topic) || ' policy', topic,
    'Our ' || topic || ' policy: ' || {pick(MIDDLES)} || '. ' || {pick(CLOSERS)},
    CASE WHEN r1 < 0.6 THEN 'About ' || topic END,
    json_build_array(topic, {pick(["open", "price", "faq", "policy"])}), '["faq"]', NULL,
    {pick(["faq", "policy", "general"])}, '["facebook", "instagram", "twitter"]',
    floor(r2 * 30)::int, round(r2::numeric, 2), r3 < 0.95, created AT TIME ZONE 'UTC',
    CASE WHEN r3 < 0.3 THEN (created + interval '4 days') AT TIME ZONE 'UTC' END
FROM (SELECT g, {OWNER} AS user_id, {pick(TOPICS)} AS topic, {WHEN} AS created,
          {_random_columns(3)}
      FROM {SERIES}) AS s
"""

KNOWLEDGE_BASE_ENTRIES = f"""
INSERT INTO knowledge_base_entries (id, user_id, category, question, answer, keywords,
    usage_count, is_public, is_active, created_at, updated_at)
SELECT %(offset)s + g, user_id, {pick(["ordering", "dietary", "appointments", "billing"])},
    {
    pick(
        [
            "Can I pre-order?",
            "Do you have vegan options?",
            "Do you take walk-ins?",
            "What are your hours?",
        ]
    )
},
    {pick(REPLIES)}, ARRAY[{pick(["cake", "vegan", "emergency", "hours"])},
                           {pick(["pre-order", "dairy", "same-day", "price"])}]::text[],
    floor(r1 * 10)::int, r1 < 0.6, r2 < 0.95, created, created
FROM (SELECT g, {OWNER} AS user_id, {WHEN} AS created, {_random_columns(2)}
      FROM {SERIES}) AS s
"""

INBOX_SETTINGS = f"""
INSERT INTO inbox_settings (id, user_id, auto_respond_enabled, auto_respond_delay_minutes,
    sentiment_filter, priority_threshold, response_tone, include_ai_disclosure,
    max_auto_responses_per_hour, business_hours_only, business_hours_start, business_hours_end,
    business_days, timezone, notification_preferences, created_at, updated_at)
SELECT %(offset)s + row_number() OVER (ORDER BY id), id, r1 < 0.4, 5 + floor(r2 * 3)::int * 5,
    CASE WHEN r1 < 0.5 THEN '{{positive,neutral}}'::varchar(50)[] END,
    1 + floor(r2 * 9)::int, {pick(["professional", "friendly"])}, true,
    10 + floor(r3 * 3)::int * 5, r3 < 0.8, time '07:00' + floor(r2 * 3) * interval '1 hour',
    time '15:00' + floor(r3 * 3) * interval '1 hour',
    CASE WHEN r1 < 0.3 THEN '{{2,3,4,5,6}}'::int[] ELSE '{{1,2,3,4,5}}'::int[] END,
    {pick(TIMEZONES)}, '{{"email": true, "push": false, "digest": "daily"}}', created, created
FROM (
    SELECT u.id, coalesce(u.created_at, timestamp '2025-01-01') + interval '1 day' AS created,
        {_random_columns(3)}
    FROM users AS u
    WHERE u.id >= %(first)s AND random() < %(inbox_share)s
) AS s
"""

SOCIAL_PLATFORM_CONNECTIONS = f"""
INSERT INTO social_platform_connections (id, user_id, platform, platform_user_id,
    platform_username, platform_display_name, profile_image_url, profile_url, access_token,
    refresh_token, token_expires_at, scope, is_active, is_verified, connection_status,
    platform_metadata, rate_limit_remaining, daily_post_count, daily_post_limit, last_error,
    error_count, last_error_at, connected_at, last_used_at, created_at, updated_at)
SELECT %(offset)s + row_number() OVER (ORDER BY id, platform), id, platform,
    '178414' || {digits(11)}, username, full_name,
    CASE WHEN r1 < 0.5 THEN 'https://cdn.example/' || platform || '/' || username || '.jpg' END,
    'https://' || platform || '.com/' || username,
    'DUMMY-' || upper(left(platform, 2)) || '-ACCESS-TOKEN-' || id,
    CASE WHEN platform IN ('twitter', 'linkedin') THEN 'DUMMY-REFRESH-' || id END,
    (created + interval '60 days') AT TIME ZONE 'UTC',
    CASE platform WHEN 'instagram' THEN 'instagram_basic,instagram_content_publish'
                  WHEN 'facebook' THEN 'pages_manage_posts,pages_read_engagement'
                  ELSE 'tweet.read,tweet.write' END,
    r1 < 0.9, r2 < 0.8, CASE WHEN r1 < 0.9 THEN 'connected' ELSE 'expired' END,
    '{{"business_account": true}}', CASE WHEN r2 < 0.5 THEN floor(r2 * 200)::int END,
    floor(r3 * 3)::int, CASE WHEN r2 < 0.5 THEN 25 END,
    CASE WHEN r3 < 0.05 THEN '(#4) Application request limit reached' END,
    CASE WHEN r3 < 0.05 THEN 1 + floor(r2 * 3)::int ELSE 0 END,
    CASE WHEN r3 < 0.05 THEN (created + interval '5 days') AT TIME ZONE 'UTC' END,
    created AT TIME ZONE 'UTC', (created + interval '6 days') AT TIME ZONE 'UTC',
    created AT TIME ZONE 'UTC',
    CASE WHEN r3 < 0.2 THEN (created + interval '5 days') AT TIME ZONE 'UTC' END
FROM (
    SELECT u.id, u.username, u.full_name, p.platform, p.share, random() AS keep,
        coalesce(u.created_at, timestamp '2025-01-01') + interval '1 hour' AS created,
        {_random_columns(3)}
    FROM users AS u
    CROSS JOIN (VALUES ('instagram', 0.5), ('facebook', 0.4), ('twitter', 0.35),
                       ('linkedin', 0.15)) AS p (platform, share)
    WHERE u.id >= %(first)s
) AS s
WHERE keep < share
"""

# Interactions arrive through a connection: draw a connection (skewed), take its owner.
CONNECTION_RANKS = """
CREATE TEMPORARY TABLE bench_connection_rank AS
SELECT row_number() OVER (ORDER BY id) AS rank, id, user_id, platform
FROM social_platform_connections WHERE user_id >= %(first)s;
CREATE UNIQUE INDEX ON bench_connection_rank (rank);
ANALYZE bench_connection_rank
"""

SOCIAL_INTERACTIONS = f"""
INSERT INTO social_interactions (id, user_id, connection_id, platform, interaction_type,
    external_id, parent_external_id, author_platform_id, author_username, author_display_name,
    author_profile_url, author_verified, content, media_urls, hashtags, mentions, sentiment,
    intent, priority_score, status, assigned_to, response_strategy, platform_metadata,
    platform_created_at, received_at, last_updated_at)
SELECT gen_random_uuid()::text, c.user_id, CASE WHEN r1 >= 0.05 THEN c.id END, c.platform,
    kind, '18' || lpad(g::text, 15, '0'),
    CASE WHEN kind = 'comment' THEN '179' || lpad(floor(r2 * 1e8)::bigint::text, 14, '0') END,
    '178414555' || lpad(floor(r3 * 1e8)::bigint::text, 8, '0'), author,
    CASE WHEN r1 < 0.6 THEN initcap(replace(author, '_', ' ')) END,
    CASE WHEN r1 < 0.3 THEN 'https://' || c.platform || '.com/' || author END, r2 < 0.02,
    {pick(COMMENTS)}, '[]', '[]',
    CASE WHEN kind = 'mention' THEN '["@business"]'::json ELSE '[]'::json END,
    sentiment,
    CASE sentiment WHEN 'negative' THEN 'complaint' WHEN 'positive' THEN 'praise'
                   ELSE 'question' END,
    round((r3 * 100)::numeric, 1),
    {
    weighted(
        "r4", [("unread", 40), ("read", 30), ("responded", 25), ("escalated", 3), ("archived", 2)]
    )
},
    CASE WHEN r4 < 0.1 THEN c.user_id END, {pick(["auto", "manual"])},
    CASE WHEN r1 < 0.3 THEN '{{"like_count": 2}}'::json ELSE '{{}}'::json END,
    created AT TIME ZONE 'UTC', (created + interval '40 seconds') AT TIME ZONE 'UTC',
    CASE WHEN r4 >= 0.4 THEN (created + interval '17 minutes') AT TIME ZONE 'UTC' END
FROM (
    SELECT g, created, r1, r2, r3, r4, rank,
        {weighted("r5", [("comment", 60), ("message", 25), ("mention", 15)])} AS kind,
        {weighted("r6", [("positive", 45), ("neutral", 35), ("negative", 20)])} AS sentiment,
        {pick(["glutenfreegrace", "cafe_crawler", "austin_eats", "kevin_o", "fit_fan"])}
            || '_' || floor(r3 * 10000)::int AS author
    FROM (
        SELECT g, {WHEN} AS created, {_random_columns(6)},
            {skewed("1", "%(connections)s", "%(skew)s", "%(connection_stride)s")} AS rank
        FROM {SERIES}
    ) AS d
) AS s
JOIN bench_connection_rank AS c USING (rank)
"""

RESPONSE_TEMPLATES = f"""
INSERT INTO response_templates (id, user_id, name, description, trigger_type,
    trigger_conditions, keywords, platforms, response_text, variables, personality_style, tone,
    auto_approve, is_active, priority, usage_count, avg_satisfaction, created_at, updated_at)
SELECT gen_random_uuid()::text, user_id, trigger || ' reply ' || g, 'Answer for ' || trigger,
    trigger,
    CASE trigger WHEN 'sentiment' THEN '{{"sentiment": "negative"}}'::json
                 ELSE '{{"match": "any"}}'::json END,
    '["gluten", "hours", "refund"]', '["instagram", "facebook"]',
    'Hi {{author_name}}! ' || {pick(REPLIES)}, '["author_name"]',
    {pick(["professional", "friendly"])}, {pick(["helpful", "empathetic"])}, r1 < 0.3,
    r1 < 0.9, 1 + floor(r2 * 3)::int, floor(r2 * 50)::int, round((r2 * 5)::numeric, 1),
    created AT TIME ZONE 'UTC', NULL
FROM (
    SELECT g, {skewed("%(first)s", "%(n)s", "1.5", "%(stride)s")} AS user_id, {WHEN} AS created,
        {pick(["keyword", "sentiment", "intent", "default"])} AS trigger, {_random_columns(2)}
    FROM {SERIES}
) AS s
"""

INTERACTION_RESPONSES = f"""
INSERT INTO interaction_responses (id, interaction_id, user_id, response_text, media_urls,
    response_type, template_id, ai_confidence_score, platform, platform_response_id,
    platform_url, status, sent_at, failure_reason, created_at, updated_at)
SELECT gen_random_uuid()::text, s.id, s.user_id, {pick(REPLIES)}, '[]', response_type,
    CASE WHEN response_type = 'template' AND t.ids IS NOT NULL
         THEN t.ids[1 + floor(r2 * cardinality(t.ids))::int] END,
    round(r2::numeric, 2), s.platform,
    CASE WHEN status = 'sent' THEN '1803' || lpad(floor(r3 * 1e12)::bigint::text, 13, '0') END,
    NULL, status, CASE WHEN status = 'sent' THEN received_at + interval '15 minutes' END,
    CASE WHEN status = 'failed' THEN {pick(ERRORS)} END,
    received_at + interval '14 minutes',
    CASE WHEN status <> 'draft' THEN received_at + interval '15 minutes' END
FROM (
    SELECT si.id, si.user_id, si.platform, si.received_at, r2, r3,
        {weighted("r1", [("template", 45), ("ai_generated", 35), ("manual", 20)])}
            AS response_type,
        {weighted("r4", [("sent", 60), ("draft", 25), ("failed", 10), ("pending", 5)])}
            AS status
    FROM (SELECT si.*, {_random_columns(5)} FROM social_interactions AS si
          WHERE si.user_id >= %(first)s) AS si
    WHERE r5 < %(response_share)s
) AS s
LEFT JOIN (SELECT user_id, array_agg(id ORDER BY id) AS ids
           FROM response_templates GROUP BY user_id) AS t ON t.user_id = s.user_id
"""

# The older reply table: ids of the first social_interactions table (integers, which can
# never match the text ids of today's table: P1a), integer template ids (P1b) and an
# approving user that may not exist (P1c).
SOCIAL_RESPONSES = f"""
INSERT INTO social_responses (id, interaction_id, user_id, response_text, response_type,
    ai_generated, ai_confidence, template_id, sent_at, platform_response_id,
    platform_response_data, status, approved_by, approved_at, error_message, created_at)
SELECT %(offset)s + g, 1 + floor(r1 * %(count)s * 3)::int, user_id, {pick(REPLIES)}, 'reply',
    r2 < 0.7, CASE WHEN r2 < 0.7 THEN round(r3::numeric, 2) END,
    CASE WHEN r3 < 0.3 THEN 1 + floor(r3 * 20)::int END,
    CASE WHEN status = 'sent' THEN created + interval '2 minutes' END,
    CASE WHEN status = 'sent' THEN '1803' || lpad(g::text, 13, '0') END,
    CASE WHEN status = 'sent' THEN jsonb_build_object('id', '1803' || lpad(g::text, 13, '0'))
         END,
    status,
    CASE WHEN r4 < 0.4 THEN
        CASE WHEN r4 < 0.4 * %(orphan_approver)s
             THEN %(first)s + %(n)s + floor(r1 * 100)::int  -- P1c: no such user
             ELSE %(first)s + floor(r1 * %(n)s)::int END
    END,
    CASE WHEN r4 < 0.4 THEN created + interval '1 minute' END,
    CASE WHEN status = 'failed' THEN 'interaction not found' END, created
FROM (
    SELECT g, user_id, created, r1, r2, r3, r4,
        {weighted("r5", [("sent", 60), ("approved", 20), ("failed", 15), ("draft", 5)])}
            AS status
    FROM (SELECT g, {OWNER} AS user_id, {timeline("g", "%(count)s * 3")} AS created,
              {_random_columns(5)}
          FROM {SERIES}) AS d
) AS s
"""
